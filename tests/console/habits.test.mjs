// habits.test.mjs — the first minutes in the Console: nothing logged to the browser console
// before sign-in, an organization's name in the URL redirects to its id, and deleting an agent
// with parts shows what would go (the API's 409) before it deletes them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ENV, launch, newPage, signIn, apiCall, screenshots } from './helpers.mjs';

let org;
let API;
let ownerToken;
let browser;

before(async () => {
  org = await apiCall(ENV.adminToken, 'POST', '/api/v1/organizations', { name: `habits-${Date.now()}` });
  API = `/api/v1/organizations/${org.id}`;
  ownerToken = (await apiCall(ENV.adminToken, 'POST', `${API}/tokens`, { name: 'owner', role: 'owner' })).token;
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
});

/** Signs in unless this browser already is (the tests share one browser profile). */
async function ensureSignedIn(page) {
  await page.goto(`${ENV.url}/sign-in`);
  await page.waitForFunction(() => !location.pathname.startsWith('/sign-in') || document.querySelector('input[name="token"], input[type="password"]'));
  if (new URL(page.url()).pathname.startsWith('/sign-in')) await signIn(page, ownerToken);
}

test('before sign-in no page logs a 401 (or anything) to the browser console', async () => {
  const page = await browser.context.newPage();
  const logged = [];
  const unauthorized = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') logged.push(message.text());
  });
  page.on('response', (response) => {
    if (response.status() === 401) unauthorized.push(response.url());
  });
  for (const path of ['/', '/sign-in', `/organizations/${org.id}/agents`, '/organizations']) {
    await page.goto(`${ENV.url}${path}`);
    await page.getByLabel('API token').waitFor();
  }
  assert.deepEqual(unauthorized, []);
  assert.deepEqual(logged, []);
  await page.close();
});

test('an organization name in the URL redirects to the canonical id', async () => {
  const page = await newPage(browser.context);
  await ensureSignedIn(page);
  await page.goto(`${ENV.url}/organizations/${encodeURIComponent(org.name)}/image-pull-secrets`);
  await page.waitForURL((url) => url.pathname === `/organizations/${org.id}/image-pull-secrets`);
  await page.getByRole('heading', { name: 'Image Pull Secrets', level: 1 }).waitFor();
  // An unknown name stays a "not found".
  await page.goto(`${ENV.url}/organizations/no-such-org-name/agents`);
  assert.equal(new URL(page.url()).pathname, '/organizations/no-such-org-name/agents');
  page.watcher.check();
  await page.close();
});

test('deleting an agent with parts lists what goes, then deletes it all', async () => {
  const agent = await apiCall(ownerToken, 'POST', `${API}/agents`, { name: 'doomed', image: ENV.images.agent });
  const secret = await apiCall(ownerToken, 'POST', `${API}/image-pull-secrets`, {
    name: 'kept', registry: ENV.registry, username: ENV.registryUser, password: ENV.registryPassword,
  });
  await apiCall(ownerToken, 'POST', `${API}/image-pull-secret-attachments`, {
    image_pull_secret_id: secret.id, agent_id: agent.id,
  });
  const page = await newPage(browser.context);
  await ensureSignedIn(page);
  await page.goto(`${ENV.url}/organizations/${org.id}/agents/${agent.id}`);
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name: 'Delete agent' }).click();
  // No MCP servers or hooks were shown, so the API's 409 comes back with the attachment.
  await dialog.getByText('Deleting “doomed” also deletes:').waitFor();
  await dialog.getByText('1 image pull secret attachment').waitFor();
  await screenshots(page, '40-delete-agent-contents');
  assert.equal((await apiCall(ownerToken, 'GET', `${API}/agents/${agent.id}`)).id, agent.id);
  await dialog.getByRole('button', { name: 'Delete agent and all of this' }).click();
  await page.waitForURL((url) => url.pathname === `/organizations/${org.id}/agents`);
  const left = await apiCall(ownerToken, 'GET', `${API}/image-pull-secret-attachments`);
  assert.deepEqual(left.items, []);
  assert.equal((await apiCall(ownerToken, 'GET', `${API}/image-pull-secrets/${secret.id}`)).name, 'kept');
  page.watcher.check();
  await page.close();
});

test('the Tokens page creates a token shown once, and revokes it', async () => {
  const page = await newPage(browser.context);
  await ensureSignedIn(page);
  await page.goto(`${ENV.url}/organizations/${org.id}/tokens`);
  await page.getByRole('heading', { name: 'API tokens', level: 1 }).waitFor();
  await page.getByRole('button', { name: 'New token' }).click();
  const form = page.getByRole('dialog');
  await form.getByLabel('Name').fill('from-console');
  await form.getByLabel('Role').selectOption('member');
  await form.getByRole('button', { name: 'Create token' }).click();
  const shown = page.getByLabel('The new API token');
  await shown.waitFor();
  const token = await shown.inputValue();
  assert.match(token, /^agyn_/);
  await screenshots(page, '41-token-created');
  const me = await apiCall(token, 'GET', '/api/v1/me');
  assert.equal(me.role, 'member');
  await page.getByRole('button', { name: 'Done' }).click();
  // Listed without its value.
  await page.getByRole('row', { name: /from-console/ }).waitFor();
  assert.equal(await page.getByText(token).count(), 0);
  await page.getByRole('button', { name: 'Revoke from-console' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('row', { name: /from-console/ }).waitFor({ state: 'detached' });
  const gone = await fetch(`${ENV.url}/api/v1/me`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(gone.status, 401);
  page.watcher.check();
  await page.close();
});

test('at 390 px every tab of an agent is fully visible', async () => {
  const agent = await apiCall(ownerToken, 'POST', `${API}/agents`, { name: 'narrow', image: ENV.images.agent });
  const page = await newPage(browser.context);
  await page.setViewportSize({ width: 390, height: 844 });
  await ensureSignedIn(page);
  await page.goto(`${ENV.url}/organizations/${org.id}/agents/${agent.id}`);
  const tabs = page.getByRole('tab');
  await tabs.first().waitFor();
  const strip = await page.locator('.tabs').first().boundingBox();
  for (let i = 0; i < await tabs.count(); i++) {
    const box = await tabs.nth(i).boundingBox();
    assert.ok(box.x >= strip.x - 1 && box.x + box.width <= strip.x + strip.width + 1,
      `tab ${await tabs.nth(i).textContent()} is cut off`);
  }
  await page.getByRole('tab', { name: 'Workloads' }).click();
  await screenshots(page, '42-agent-tabs-narrow');
  page.watcher.check();
  await page.close();
});

test('the Docker config import page imports each entry and lists the refused ones', async () => {
  const page = await newPage(browser.context);
  await ensureSignedIn(page);
  await page.goto(`${ENV.url}/organizations/${org.id}/image-pull-secrets`);
  await page.getByRole('link', { name: 'Import Docker config' }).click();
  await page.getByRole('heading', { name: 'Import Docker config', level: 1 }).waitFor();
  const auth = Buffer.from(`${ENV.registryUser}:${ENV.registryPassword}`).toString('base64');
  await page.getByLabel('Docker config.json').fill(JSON.stringify({
    auths: { [ENV.registry]: { auth }, 'broken.example.com': { auth: 'not base64!' } },
  }));
  await page.getByRole('button', { name: 'Import' }).click();
  await page.getByText('Imported 1 of 2 entries.').waitFor();
  await page.getByRole('table', { name: 'Entries not imported' }).getByText('broken.example.com', { exact: true }).waitFor();
  await screenshots(page, '43-import-docker-config');
  const listed = await apiCall(ownerToken, 'GET', `${API}/image-pull-secrets`);
  assert.ok(listed.items.some((i) => i.name === ENV.registry && i.username === ENV.registryUser));
  assert.equal(await page.getByText(ENV.registryPassword).count(), 0);
  page.watcher.check();
  await page.close();
});
