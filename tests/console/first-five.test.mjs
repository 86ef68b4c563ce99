// first-five.test.mjs — the Console in a new user's first minutes: every field error of a
// refused form shown at once beside its field, deleting an organization (asked, then shown
// what goes with it), and the Image Pull Secrets table readable at 1280 and 390 px.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ENV, launch, newPage, signIn, apiCall, screenshots } from './helpers.mjs';

let org;
let API;
let ownerToken;
let browser;

before(async () => {
  org = await apiCall(ENV.adminToken, 'POST', '/api/v1/organizations', { name: `first-five-${Date.now()}` });
  API = `/api/v1/organizations/${org.id}`;
  ownerToken = (await apiCall(ENV.adminToken, 'POST', `${API}/tokens`, { name: 'owner', role: 'owner' })).token;
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
});

/** A page signed in with token (this file's tests switch between owner and admin, so each
 * starts signed out). */
async function pageAs(token) {
  await browser.context.clearCookies();
  const page = await newPage(browser.context);
  await signIn(page, token);
  return page;
}

test('a refused form shows every field error at once, each beside its field', async () => {
  const page = await pageAs(ownerToken);
  await page.goto(`${ENV.url}/organizations/${org.id}/agents`);
  await page.getByRole('button', { name: 'New agent' }).first().click();
  const form = page.getByRole('dialog');
  await form.getByLabel('Name').fill('n'.repeat(200));
  await form.getByLabel('Image').fill('Not A Valid Image!!');
  await form.getByRole('button', { name: 'Create agent' }).click();
  const nameError = form.locator('[data-field="name"] .field-error');
  const imageError = form.locator('[data-field="image"] .field-error');
  await nameError.waitFor();
  await imageError.waitFor();
  assert.match(await nameError.textContent(), /name must be at most 128 bytes/);
  assert.match(await imageError.textContent(), /image/);
  assert.equal(await form.getByLabel('Name').getAttribute('aria-invalid'), 'true');
  assert.equal(await form.getByLabel('Image').getAttribute('aria-invalid'), 'true');
  await screenshots(page, '50-all-field-errors');
  // Fixing one field leaves only the other's error after the next try.
  await form.getByLabel('Name').fill('all-at-once');
  await form.getByRole('button', { name: 'Create agent' }).click();
  await nameError.waitFor({ state: 'hidden' });
  await imageError.waitFor();
  page.watcher.check();
  await page.close();
});

test('the server admin deletes an organization, shown what goes with it first', async () => {
  const doomed = await apiCall(ENV.adminToken, 'POST', '/api/v1/organizations', { name: `doomed-${Date.now()}` });
  const token = (await apiCall(ENV.adminToken, 'POST', `/api/v1/organizations/${doomed.id}/tokens`, { name: 'o', role: 'owner' })).token;
  await apiCall(token, 'POST', `/api/v1/organizations/${doomed.id}/agents`, { name: 'inside', image: ENV.images.agent });
  const empty = await apiCall(ENV.adminToken, 'POST', '/api/v1/organizations', { name: `empty-${Date.now()}` });
  const page = await pageAs(ENV.adminToken);
  await page.goto(`${ENV.url}/organizations`);
  await page.getByRole('button', { name: `Delete ${doomed.name}` }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByText(`Delete organization “${doomed.name}”?`).waitFor();
  await dialog.getByRole('button', { name: 'Delete organization' }).click();
  // The API's 409: the dialog lists the agent and asks again; nothing went yet.
  await dialog.getByText(`Deleting “${doomed.name}” also deletes:`).waitFor();
  await dialog.getByText('1 agent: inside').waitFor();
  await screenshots(page, '51-delete-organization-contents');
  assert.equal((await apiCall(ENV.adminToken, 'GET', `/api/v1/organizations/${doomed.id}`)).id, doomed.id);
  await dialog.getByRole('button', { name: 'Delete organization and all of this' }).click();
  await page.getByRole('row', { name: new RegExp(doomed.name) }).waitFor({ state: 'detached' });
  const gone = await fetch(`${ENV.url}/api/v1/organizations/${doomed.id}`, { headers: { Authorization: `Bearer ${ENV.adminToken}` } });
  assert.equal(gone.status, 404);
  await dialog.waitFor({ state: 'hidden' });
  // An empty organization goes at the first confirmation.
  await page.getByRole('button', { name: `Delete ${empty.name}` }).click();
  const second = page.getByRole('dialog');
  await second.getByText(`Delete organization “${empty.name}”?`).waitFor();
  await second.getByRole('button', { name: 'Delete organization', exact: true }).click();
  await page.waitForFunction(() => !document.querySelector('dialog[open]')
    || document.querySelector('dialog[open] .form-error:not([hidden])'));
  const open = page.locator('dialog[open]');
  assert.equal(await open.count(), 0, `the dialog stayed: ${await open.first().textContent().catch(() => '')}`);
  await page.getByRole('row', { name: new RegExp(empty.name) }).waitFor({ state: 'detached' });
  const emptyGone = await fetch(`${ENV.url}/api/v1/organizations/${empty.id}`, { headers: { Authorization: `Bearer ${ENV.adminToken}` } });
  assert.equal(emptyGone.status, 404);
  page.watcher.check();
  await page.close();
});

test('the Updated column of Image Pull Secrets is not under Test login at 1280 or 390 px', async () => {
  await apiCall(ownerToken, 'POST', `${API}/image-pull-secrets`, {
    name: 'a-rather-long-secret-name-for-layout', registry: ENV.registry, username: 'someone-with-a-long-name', password: 'layout-pw',
  });
  const page = await pageAs(ownerToken);
  for (const [width, height] of [[1280, 800], [390, 844]]) {
    await page.setViewportSize({ width, height });
    await page.goto(`${ENV.url}/organizations/${org.id}/image-pull-secrets`);
    const row = page.locator('.grid-row[data-name="a-rather-long-secret-name-for-layout"]');
    await row.waitFor();
    const updated = await row.locator('.col-time time, .col-time > *').first().boundingBox();
    const testLogin = await row.getByRole('button', { name: /^Test login/ }).boundingBox();
    assert.ok(updated && testLogin, `both are rendered at ${width} px`);
    const overlaps = updated.x < testLogin.x + testLogin.width && testLogin.x < updated.x + updated.width &&
      updated.y < testLogin.y + testLogin.height && testLogin.y < updated.y + updated.height;
    assert.ok(!overlaps, `at ${width} px Updated ${JSON.stringify(updated)} overlaps Test login ${JSON.stringify(testLogin)}`);
    // Its text is not cut by its own cell either.
    const clipped = await row.locator('.col-time').evaluate((cell) => cell.scrollWidth > cell.clientWidth + 1);
    assert.ok(!clipped, `at ${width} px the Updated cell is clipped`);
    assert.ok(updated.x >= 0 && updated.x + updated.width <= width, `Updated is inside the ${width} px viewport`);
  }
  page.watcher.check();
  await page.close();
});
