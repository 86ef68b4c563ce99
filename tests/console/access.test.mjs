// access.test.mjs — what a member may do, keyboard use (skip link, dialogs, tabs), labels on
// every control, and a session that ends while a page is open.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ENV, launch, newPage, signIn, navTo, apiCall } from './helpers.mjs';

// This file works in an organization of its own, so it can run in any order with the others.
let ORG_BASE;
let API;
let ownerToken;
let memberToken;
let browser;
let agent;

before(async () => {
  const org = await apiCall(ENV.adminToken, 'POST', '/api/v1/organizations', { name: `access-${Date.now()}` });
  ORG_BASE = `/organizations/${org.id}`;
  API = `/api/v1/organizations/${org.id}`;
  ownerToken = (await apiCall(ENV.adminToken, 'POST', `${API}/tokens`, { name: 'owner', role: 'owner' })).token;
  memberToken = (await apiCall(ENV.adminToken, 'POST', `${API}/tokens`, { name: 'member', role: 'member' })).token;
  agent = await apiCall(ownerToken, 'POST', `${API}/agents`, { name: 'keyboard', image: ENV.images.agent });
  await apiCall(ownerToken, 'POST', `${API}/image-pull-secrets`, {
    name: 'member-visible', registry: ENV.registry, username: ENV.registryUser, password: ENV.registryPassword,
  });
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
});

async function tabTo(page, predicate, limit = 40) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(predicate)) return true;
  }
  return false;
}

test('a member sees the lists, attaches secrets and starts workloads, but cannot create or delete', async () => {
  const page = await newPage(browser.context);
  await signIn(page, memberToken);
  await page.waitForURL(`**${ORG_BASE}`);
  await navTo(page, 'Image Pull Secrets');
  await page.locator('.table-ips [role="row"][data-id]').first().waitFor();
  assert.equal(await page.getByRole('button', { name: 'New image pull secret' }).count(), 0);
  assert.equal(await page.getByRole('button', { name: /^Edit/ }).count(), 0);
  assert.equal(await page.getByRole('button', { name: /^Delete/ }).count(), 0);
  assert.ok(await page.getByRole('button', { name: /^Test login/ }).count() > 0);

  await page.goto(`${ENV.url}${ORG_BASE}/agents/${agent.id}`);
  await page.getByRole('button', { name: 'Start workload' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Delete', exact: true }).count(), 0);
  await page.getByRole('button', { name: 'Attach image pull secret' }).first().click();
  const d = page.locator('dialog[open]');
  await d.getByRole('checkbox').first().check();
  await d.getByRole('button', { name: 'Save' }).click();
  await d.waitFor({ state: 'detached' });
  await page.locator('section [data-id]').first().waitFor();
  await page.getByRole('button', { name: 'Start workload' }).click();
  await page.getByText('Workload started.').waitFor();
  await page.locator('article[data-workload-id]').first().waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL('**/sign-in?signed_out=1');
  page.watcher.check();
  await page.close();
});

test('keyboard: skip link, dialogs that trap and return focus, arrow-key tabs, labelled controls', async () => {
  const page = await newPage(browser.context);
  await signIn(page, ownerToken);
  await page.goto(`${ENV.url}${ORG_BASE}/image-pull-secrets`);
  await page.getByRole('heading', { name: 'Image Pull Secrets' }).waitFor();

  // The first Tab reaches the skip link; Enter moves focus to the main content.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'main');

  // "New image pull secret" is reachable with Tab and opens with Enter; focus starts in Name.
  assert.ok(await tabTo(page, () => document.activeElement.textContent === 'New image pull secret'), 'button reachable by Tab');
  await page.keyboard.press('Enter');
  const d = page.locator('dialog[open]');
  await d.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.name), 'name');
  // Every control in the form has a label.
  const unlabelled = await d.evaluate((dialog) => [...dialog.querySelectorAll('input, select, textarea')]
    .filter((el) => !el.labels?.length && !el.getAttribute('aria-label')).map((el) => el.name));
  assert.deepEqual(unlabelled, []);
  // The radio group moves with arrow keys.
  await d.getByRole('radio', { name: 'Inline', exact: true }).focus();
  await page.keyboard.press('ArrowRight');
  assert.equal(await d.getByRole('radio', { name: 'Remote provider', exact: true }).isChecked(), true);
  assert.equal(await d.getByLabel('Provider', { exact: true }).isVisible(), true);
  assert.equal(await d.getByLabel('Password', { exact: true }).isVisible(), false);
  // Required fields are reported beside each field, and focus goes to the first.
  await d.getByRole('button', { name: 'Save' }).click();
  await d.locator('[data-field="name"] .field-error').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.name), 'name');
  assert.match(await d.locator('[data-field="registry"] .field-error').textContent(), /Registry is required/);
  // Escape closes the dialog and focus returns to the button that opened it.
  await page.keyboard.press('Escape');
  await d.waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'New image pull secret');

  // Tabs on the agent page follow the arrow keys and update the address.
  await page.goto(`${ENV.url}${ORG_BASE}/agents/${agent.id}`);
  const first = page.getByRole('tab', { name: 'Image pull secrets' });
  await first.focus();
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.getByRole('tab', { name: 'MCP servers' }).getAttribute('aria-selected'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'MCP servers');
  assert.ok(page.url().endsWith(`/agents/${agent.id}/mcps`));
  await page.keyboard.press('End');
  assert.equal(await page.getByRole('tab', { name: 'Workloads' }).getAttribute('aria-selected'), 'true');
  // The current page is marked in the navigation.
  assert.equal(await page.getByRole('navigation', { name: 'Organization' }).getByRole('link', { name: 'Agents', exact: true }).getAttribute('aria-current'), 'page');
  page.watcher.check();
  await page.close();
});

test('a session that ends elsewhere sends the next action to sign-in, then back', async () => {
  const page = await newPage(browser.context);
  await page.goto(`${ENV.url}${ORG_BASE}/secrets`);
  await page.getByRole('heading', { name: 'Secrets', exact: true }).waitFor();
  const other = await browser.context.newPage();
  await other.goto(`${ENV.url}${ORG_BASE}`);
  await other.getByRole('button', { name: 'Sign out' }).click();
  await other.waitForURL('**/sign-in?signed_out=1');
  await other.close();

  await navTo(page, 'Agents');
  await page.waitForURL('**/sign-in?ended=1&next=**');
  await page.getByText('Your session ended').waitFor();
  await page.getByLabel('API token').fill(ownerToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`**${ORG_BASE}/agents`);
  await page.getByRole('heading', { name: 'Agents', exact: true }).waitFor();
  page.watcher.check();
  await page.close();
});
