// flows.test.mjs — the seed's Console flows, clicked through as a user would: sign in; a Vault
// provider; inline, remote-backed and Secret-backed image pull secrets; attaching them on an
// agent, an MCP server and a hook; a workload that fails live in Monitoring with a wrong
// password; rotating the password in place; a workload that runs. The steps share one browser
// and run in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ENV, launch, newPage, signIn, navTo, screenshots, countDocumentLoads, apiCall,
} from './helpers.mjs';

const ORG_BASE = `/organizations/${ENV.org}`;
const WRONG_PASSWORD = 'not-the-password';
let browser;
let page;
let monitor;
let monitorLoads;
const ids = {};

before(async () => {
  browser = await launch();
  page = await newPage(browser.context);
});

after(async () => {
  if (browser) await browser.close();
});

// Each step needs the ones before it: after a failure the rest are skipped, not failed again.
let broken = null;
function step(name, fn) {
  test(name, async (t) => {
    if (broken) {
      t.skip(`skipped: "${broken}" failed`);
      return;
    }
    try {
      await fn(t);
    } catch (error) {
      broken = name;
      throw error;
    }
  });
}

function row(p, name) {
  return p.locator(`tr[data-name="${name}"], [role="row"][data-name="${name}"]`);
}

async function dialog(p) {
  const d = p.locator('dialog[open]');
  await d.waitFor();
  return d;
}

step('the admin token lists organizations to pick one; sign-out ends the session', async () => {
  await page.goto(`${ENV.url}${ORG_BASE}/image-pull-secrets`);
  await page.waitForURL('**/sign-in?next=**');
  await page.getByLabel('API token').waitFor();
  await screenshots(page, '01-sign-in');

  // A wrong token: the error is shown beside the token field.
  await page.getByLabel('API token').fill('agyn_not-a-real-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const tokenError = page.locator('[data-field="token"] .field-error');
  await tokenError.waitFor();
  assert.match(await tokenError.textContent(), /token/i);
  assert.equal(await page.getByLabel('API token').getAttribute('aria-invalid'), 'true');

  await page.getByLabel('API token').fill(ENV.adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // The admin was on its way to an organization page: it gets there after signing in.
  await page.waitForURL(`**${ORG_BASE}/image-pull-secrets`);
  await page.goto(`${ENV.url}/`);
  await page.waitForURL('**/organizations');
  await page.getByRole('heading', { name: 'Organizations' }).waitFor();
  await screenshots(page, '02-organizations');
  assert.ok(!page.url().includes(ENV.adminToken), 'the token must not be in the address');
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
  assert.ok(!stored.includes(ENV.adminToken), 'the token must not be in storage or a readable cookie');
  assert.ok(!stored.includes('agyn_session'), 'the session cookie is HttpOnly');

  await page.getByRole('link', { name: ENV.orgName, exact: true }).click();
  await page.waitForURL(`**${ORG_BASE}`);
  await page.getByRole('heading', { level: 1, name: ENV.orgName }).waitFor();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL('**/sign-in?signed_out=1');
  const status = await page.evaluate(async () => (await fetch('/api/v1/session')).status);
  assert.equal(status, 401, 'the session is gone after signing out');
  page.watcher.check();
});

step('an organization owner signs in and lands in the organization', async () => {
  await signIn(page, ENV.ownerToken);
  await page.waitForURL(`**${ORG_BASE}`);
  await page.getByRole('heading', { level: 1, name: ENV.orgName }).waitFor();
  await page.getByRole('heading', { name: 'Getting started with private images' }).waitFor();
  // Reloading keeps the session (the CSRF token comes back from GET /api/v1/session).
  await page.reload();
  await page.getByRole('heading', { level: 1, name: ENV.orgName }).waitFor();
  await screenshots(page, '03-overview-empty');
});

step('empty states say what to do next', async () => {
  await navTo(page, 'Image Pull Secrets');
  await page.waitForURL(`**${ORG_BASE}/image-pull-secrets`);
  await page.getByRole('heading', { name: 'No image pull secrets yet' }).waitFor();
  await screenshots(page, '04-image-pull-secrets-empty');
  await navTo(page, 'Monitoring');
  await page.getByRole('heading', { name: 'No workloads yet' }).waitFor();
  await navTo(page, 'Secret providers');
  await page.getByRole('heading', { name: 'No secret providers yet' }).waitFor();
  page.watcher.check();
});

step('a Vault secret provider is added on the Secret providers page and tested', async () => {
  await page.getByRole('button', { name: 'New secret provider' }).first().click();
  const d = await dialog(page);
  await d.getByLabel('Name', { exact: true }).fill('vault-main');
  await d.getByRole('radio', { name: 'Vault', exact: true }).check();
  await d.getByLabel('Address').fill(ENV.vault.address);
  await d.getByLabel('Token', { exact: true }).fill(ENV.vault.token);
  await screenshots(page, '05-secret-provider-form');
  await d.getByRole('button', { name: 'Save' }).click();
  await d.waitFor({ state: 'detached' });
  await row(page, 'vault-main').waitFor();
  await row(page, 'vault-main').getByRole('button', { name: 'Test connection' }).click();
  await row(page, 'vault-main').getByText('Connected and authenticated').waitFor();
  await screenshots(page, '06-secret-providers');
  page.watcher.check();
});

step('an inline image pull secret is created as the seed describes (with a field error first)', async () => {
  // Console → Image Pull Secrets → New image pull secret.
  await navTo(page, 'Image Pull Secrets');
  await page.waitForURL(`**${ORG_BASE}/image-pull-secrets`);
  await page.getByRole('button', { name: 'New image pull secret' }).first().click();
  const d = await dialog(page);
  await d.getByLabel('Name', { exact: true }).fill('registry-inline');
  await d.getByLabel('Registry').fill('https://bad host/');
  await d.getByLabel('Username').fill(ENV.registryUser);
  await d.getByRole('radio', { name: 'Inline', exact: true }).check();
  await d.getByLabel('Password', { exact: true }).fill(WRONG_PASSWORD);
  await d.getByRole('button', { name: 'Save' }).click();
  // The API rejects the registry: its message appears beside the Registry field.
  const registryError = d.locator('[data-field="registry"] .field-error');
  await registryError.waitFor();
  assert.ok((await registryError.textContent()).length > 5);
  assert.equal(await d.getByLabel('Registry').getAttribute('aria-invalid'), 'true');
  await screenshots(page, '07-image-pull-secret-field-error');
  await d.getByLabel('Registry').fill(ENV.registry);
  await d.getByRole('button', { name: 'Save' }).click();
  await d.waitFor({ state: 'detached' });
  const r = row(page, 'registry-inline');
  await r.waitFor();
  assert.match(await r.textContent(), new RegExp(ENV.registry.replace(/[.:]/g, '\\$&')));
  assert.match(await r.textContent(), /Inline/);
  ids.inline = await r.getAttribute('data-id');

  // Test login reports the registry's refusal of the wrong password.
  await r.getByRole('button', { name: 'Test login' }).click();
  await r.locator('.verify-result.failed').waitFor();
  assert.match(await r.locator('.verify-result').textContent(), /Login failed/);
  page.watcher.check();
});

step('a remote-backed image pull secret reads its password from the Vault provider', async () => {
  await page.getByRole('button', { name: 'New image pull secret' }).first().click();
  const d = await dialog(page);
  await d.getByLabel('Name', { exact: true }).fill('registry-vault');
  await d.getByLabel('Registry').fill(ENV.registry);
  await d.getByLabel('Username').fill(ENV.registryUser);
  await d.getByRole('radio', { name: 'Remote provider', exact: true }).check();
  await d.getByLabel('Provider', { exact: true }).selectOption({ label: 'vault-main (Vault)' });
  await d.getByLabel('Remote path').fill(ENV.vault.path);
  await screenshots(page, '08-image-pull-secret-remote-form');
  await d.getByRole('button', { name: 'Save' }).click();
  await d.waitFor({ state: 'detached' });
  const r = row(page, 'registry-vault');
  await r.waitFor();
  assert.match(await r.textContent(), /Remote/);
  assert.match(await r.textContent(), /vault-main/);
  assert.ok((await r.textContent()).includes(ENV.vault.path));
  ids.remote = await r.getAttribute('data-id');
  await r.getByRole('button', { name: 'Test login' }).click();
  await r.locator('.verify-result.ok').waitFor();
  page.watcher.check();
});

step('an image pull secret can take its password from a Secret', async () => {
  await navTo(page, 'Secrets');
  await page.getByRole('heading', { name: 'No secrets yet' }).waitFor();
  await page.getByRole('button', { name: 'New secret' }).first().click();
  let d = await dialog(page);
  await d.getByLabel('Name', { exact: true }).fill('registry-password');
  await d.getByRole('radio', { name: 'Inline', exact: true }).check();
  await d.getByLabel('Value', { exact: true }).fill(ENV.registryPassword);
  await d.getByRole('button', { name: 'Save' }).click();
  await d.waitFor({ state: 'detached' });
  await row(page, 'registry-password').waitFor();

  await navTo(page, 'Image Pull Secrets');
  await page.getByRole('button', { name: 'New image pull secret' }).first().click();
  d = await dialog(page);
  await d.getByLabel('Name', { exact: true }).fill('registry-secret');
  await d.getByLabel('Registry').fill(ENV.registry);
  await d.getByLabel('Username').fill(ENV.registryUser);
  await d.getByRole('radio', { name: 'Secret', exact: true }).check();
  await d.getByRole('combobox', { name: 'Secret', exact: true }).selectOption({ label: 'registry-password' });
  await d.getByRole('button', { name: 'Save' }).click();
  await d.waitFor({ state: 'detached' });
  await row(page, 'registry-secret').waitFor();
  ids.secret = await row(page, 'registry-secret').getAttribute('data-id');

  // Search filters the list.
  await page.getByLabel('Search image pull secrets').fill('vault');
  await page.waitForFunction(() => document.querySelectorAll('.table-ips [role="row"][data-id]').length === 1);
  await page.getByLabel('Search image pull secrets').fill('');
  await page.waitForFunction(() => document.querySelectorAll('.table-ips [role="row"][data-id]').length === 3);
  page.watcher.check();
});

step('the Password storage choice has an Amazon ECR card that takes an AWS provider, not a username', async () => {
  await page.getByRole('button', { name: 'New image pull secret' }).first().click();
  const d = await dialog(page);
  const radios = d.getByRole('radio');
  assert.equal(await radios.count(), 4);
  await d.getByRole('radio', { name: 'Amazon ECR', exact: true }).check();
  await d.getByRole('combobox', { name: 'AWS provider' }).waitFor();
  assert.equal(await d.getByLabel('Username').isVisible(), false);
  await d.getByRole('radio', { name: 'Inline', exact: true }).check();
  assert.equal(await d.getByLabel('Username').isVisible(), true);
  await d.getByRole('button', { name: 'Cancel' }).click();
  await d.waitFor({ state: 'detached' });
  page.watcher.check();
});

step('an agent, an MCP server and a hook get image pull secrets through their tabs', async () => {
  // The agent, created from the Console.
  await navTo(page, 'Agents');
  await page.getByRole('heading', { name: 'No agents yet' }).waitFor();
  await page.getByRole('button', { name: 'New agent' }).first().click();
  let d = await dialog(page);
  await d.getByLabel('Name', { exact: true }).fill('support');
  await d.getByLabel('Image').fill(ENV.images.agent);
  await d.getByRole('button', { name: 'Create agent' }).click();
  await page.waitForURL(new RegExp(`${ORG_BASE}/agents/[0-9a-f-]{36}$`));
  ids.agent = page.url().split('/').pop();

  // Agents → support → Image pull secrets tab → Attach image pull secret → pick → Save.
  await page.getByRole('tab', { name: 'Image pull secrets' }).click();
  await page.getByRole('heading', { name: 'No image pull secrets attached' }).waitFor();
  await page.getByRole('button', { name: 'Attach image pull secret' }).first().click();
  d = await dialog(page);
  await d.getByLabel('registry-inline').check();
  await screenshots(page, '09-attach-dialog');
  await d.getByRole('button', { name: 'Save' }).click();
  await d.waitFor({ state: 'detached' });
  await row(page, 'registry-inline').waitFor();
  assert.match(await row(page, 'registry-inline').textContent(), /Matches the image/);
  await screenshots(page, '10-agent-image-pull-secrets');

  // The MCP server, from the agent's MCP servers tab.
  await page.getByRole('tab', { name: 'MCP servers' }).click();
  await page.getByRole('button', { name: 'New MCP server' }).first().click();
  d = await dialog(page);
  await d.getByLabel('Name', { exact: true }).fill('files');
  await d.getByLabel('Image').fill(ENV.images.mcp);
  await d.getByRole('button', { name: 'Create MCP server' }).click();
  await page.waitForURL(new RegExp(`${ORG_BASE}/mcps/[0-9a-f-]{36}$`));
  ids.mcp = page.url().split('/').pop();
  await page.getByRole('tab', { name: 'Image pull secrets' }).click();
  await page.getByRole('button', { name: 'Attach image pull secret' }).first().click();
  d = await dialog(page);
  await d.getByLabel('registry-vault').check();
  await d.getByRole('button', { name: 'Save' }).click();
  await d.waitFor({ state: 'detached' });
  await row(page, 'registry-vault').waitFor();
  await screenshots(page, '11-mcp-image-pull-secrets');

  // The hook, from the Hooks page.
  await navTo(page, 'Hooks');
  await page.getByRole('button', { name: 'New hook' }).first().click();
  d = await dialog(page);
  await d.getByLabel('Agent').selectOption({ label: 'support' });
  await d.getByLabel('Event').fill('on_message');
  await d.getByLabel('Image').fill(ENV.images.hook);
  await d.getByRole('button', { name: 'Create hook' }).click();
  await page.waitForURL(new RegExp(`${ORG_BASE}/hooks/[0-9a-f-]{36}$`));
  ids.hook = page.url().split('/').pop();
  await page.getByRole('tab', { name: 'Image pull secrets' }).click();
  await page.getByRole('button', { name: 'Attach image pull secret' }).first().click();
  d = await dialog(page);
  await d.getByLabel('registry-secret').check();
  await d.getByRole('button', { name: 'Save' }).click();
  await d.waitFor({ state: 'detached' });
  await row(page, 'registry-secret').waitFor();
  await screenshots(page, '12-hook-image-pull-secrets');

  // The list shows where each secret is attached.
  await navTo(page, 'Image Pull Secrets');
  await row(page, 'registry-inline').getByRole('link', { name: 'agent support' }).waitFor();
  await row(page, 'registry-vault').getByRole('link', { name: 'MCP server files' }).waitFor();
  await row(page, 'registry-secret').getByRole('link', { name: 'hook on_message' }).waitFor();
  await screenshots(page, '13-image-pull-secrets');
  page.watcher.check();
});

step('a wrong password fails the workload in Monitoring live, without a reload', async () => {
  monitor = await newPage(browser.context);
  await monitor.goto(`${ENV.url}${ORG_BASE}/monitoring`);
  await monitor.getByRole('heading', { name: 'Monitoring' }).waitFor();
  await monitor.locator('.live[data-state="live"]').waitFor();
  monitorLoads = countDocumentLoads(monitor);
  await monitor.evaluate(() => { window.__sameDocument = 'still here'; });

  // Start a workload from the agent page (in the first tab).
  await page.bringToFront();
  await page.goto(`${ENV.url}${ORG_BASE}/agents/${ids.agent}`);
  const started = page.waitForResponse((r) => r.url().endsWith('/workloads') && r.request().method() === 'POST');
  await page.getByRole('button', { name: 'Start workload' }).click();
  const workload = await (await started).json();
  assert.equal(workload.status, 'starting');

  await monitor.bringToFront();
  const card = monitor.locator(`article[data-workload-id="${workload.id}"]`);
  await card.and(monitor.locator('[data-status="failed"]')).waitFor({ timeout: 20000 });
  assert.equal((await card.locator('.failure-reason').textContent()).trim(), 'image_pull_failed');
  const main = card.locator('tr[data-role="main"]');
  assert.equal((await main.locator('.container-reason').textContent()).trim(), 'ImagePullBackOff');
  const message = await main.locator('.container-message').textContent();
  assert.match(message, /registry-inline/, 'the message names the secret tried');
  assert.match(message, /unauthorized|authentication required|401/i, "the message carries the registry's error");
  assert.equal(await main.locator('.container-status').textContent(), 'waiting');
  assert.match(await card.locator('.failure-message').textContent(), /authentication required|unauthorized|401/i);

  assert.equal(monitorLoads.loads, 0, 'Monitoring did not reload');
  assert.equal(monitorLoads.documents, 0, 'Monitoring fetched no document');
  assert.equal(await monitor.evaluate(() => window.__sameDocument), 'still here');
  await screenshots(monitor, '14-monitoring-failed');
  // The agent's own Workloads tab shows it too.
  await page.bringToFront();
  await page.getByRole('tab', { name: 'Workloads' }).click();
  await page.locator(`article[data-workload-id="${workload.id}"][data-status="failed"]`).waitFor();
  ids.failed = workload.id;
  page.watcher.check();
  monitor.watcher.check();
});

step('changing the registry asks for the password again', async () => {
  await page.bringToFront();
  await navTo(page, 'Image Pull Secrets');
  await row(page, 'registry-inline').getByRole('button', { name: 'Edit' }).click();
  const d = await dialog(page);
  const password = d.getByLabel('Password', { exact: true });
  const registry = d.getByLabel('Registry', { exact: true });
  const original = await registry.inputValue();
  assert.equal(await password.evaluate((el) => el.required), false, 'blank keeps the password');
  await registry.fill(`${original}/elsewhere`);
  await d.getByText('The registry changed: enter the password again.', { exact: false }).waitFor();
  assert.equal(await password.evaluate((el) => el.required), true);
  const patches = [];
  const record = (request) => { if (request.method() === 'PATCH') patches.push(request.url()); };
  page.on('request', record);
  await d.getByRole('button', { name: 'Save' }).click();
  await d.getByText('Password is required.').waitFor();
  // Back to the stored registry: the password may stay blank again.
  await registry.fill(original);
  assert.equal(await password.evaluate((el) => el.required), false);
  await d.getByRole('button', { name: 'Cancel' }).click();
  await d.waitFor({ state: 'detached' });
  page.off('request', record);
  assert.deepEqual(patches, [], 'nothing was sent without the password');
  page.watcher.check();
});

step('editing the password rotates it in place, and the next workload runs', async () => {
  await page.bringToFront();
  await navTo(page, 'Image Pull Secrets');
  await row(page, 'registry-inline').getByRole('button', { name: 'Edit' }).click();
  const d = await dialog(page);
  assert.equal(await d.getByLabel('Name', { exact: true }).inputValue(), 'registry-inline');
  assert.equal(await d.getByLabel('Password', { exact: true }).inputValue(), '', 'passwords are never shown');
  await d.getByLabel('Password', { exact: true }).fill(ENV.registryPassword);
  await screenshots(page, '15-image-pull-secret-edit');
  await d.getByRole('button', { name: 'Save' }).click();
  await d.waitFor({ state: 'detached' });
  await page.getByText('Password of “registry-inline” rotated.').waitFor();
  await row(page, 'registry-inline').getByRole('button', { name: 'Test login' }).click();
  await row(page, 'registry-inline').locator('.verify-result.ok').waitFor();

  await page.goto(`${ENV.url}${ORG_BASE}/agents/${ids.agent}`);
  const started = page.waitForResponse((r) => r.url().endsWith('/workloads') && r.request().method() === 'POST');
  await page.getByRole('button', { name: 'Start workload' }).click();
  const workload = await (await started).json();

  await monitor.bringToFront();
  const card = monitor.locator(`article[data-workload-id="${workload.id}"]`);
  await card.and(monitor.locator('[data-status="running"]')).waitFor({ timeout: 20000 });
  const used = {};
  for (const role of ['main', 'mcp', 'hook']) {
    const container = card.locator(`tr[data-role="${role}"]`);
    assert.equal(await container.locator('.container-status').textContent(), 'running');
    used[role] = (await container.locator('.container-secret').textContent()).trim();
  }
  assert.deepEqual(used, { main: 'registry-inline', mcp: 'registry-vault', hook: 'registry-secret' });
  assert.equal(await card.locator('.failure').count(), 0);
  // The earlier failure is still listed, below the newer workload.
  const order = await monitor.locator('article[data-workload-id]').evaluateAll((els) => els.map((e) => e.dataset.workloadId));
  assert.ok(order.indexOf(workload.id) < order.indexOf(ids.failed));
  assert.equal(monitorLoads.loads, 0, 'Monitoring did not reload');
  assert.equal(monitorLoads.documents, 0, 'Monitoring fetched no document');
  assert.equal(await monitor.evaluate(() => window.__sameDocument), 'still here');
  await screenshots(monitor, '16-monitoring-running');

  // Stop it from Monitoring; the status follows live.
  await card.getByRole('button', { name: /^Stop/ }).click();
  await card.and(monitor.locator('[data-status="stopped"]')).waitFor({ timeout: 20000 });
  page.watcher.check();
  monitor.watcher.check();
  await monitor.close();
  await page.bringToFront();
});

step('delete shows what a secret is attached to; detach removes an attachment', async () => {
  await navTo(page, 'Image Pull Secrets');
  await row(page, 'registry-secret').getByRole('button', { name: 'Delete' }).click();
  let d = await dialog(page);
  await d.getByText('is attached to 1 resource').waitFor();
  await d.getByRole('link', { name: 'hook on_message' }).waitFor();
  await screenshots(page, '17-delete-attached');
  await d.getByRole('button', { name: 'Cancel' }).click();
  await d.waitFor({ state: 'detached' });
  await row(page, 'registry-secret').waitFor();

  // An unattached secret is deleted after a plain confirmation.
  await page.getByRole('button', { name: 'New image pull secret' }).first().click();
  d = await dialog(page);
  await d.getByLabel('Name', { exact: true }).fill('scratch');
  await d.getByLabel('Registry').fill('ghcr.io');
  await d.getByLabel('Username').fill('someone');
  await d.getByLabel('Password', { exact: true }).fill('x');
  await d.getByRole('button', { name: 'Save' }).click();
  await d.waitFor({ state: 'detached' });
  await row(page, 'scratch').getByRole('button', { name: 'Delete' }).click();
  d = await dialog(page);
  await d.getByText('permanently removes').waitFor();
  await d.getByRole('button', { name: 'Delete' }).click();
  await d.waitFor({ state: 'detached' });
  await row(page, 'scratch').waitFor({ state: 'detached' });

  // Detach from the hook's tab, then attach again (so later tests still see it).
  await page.goto(`${ENV.url}${ORG_BASE}/hooks/${ids.hook}`);
  await row(page, 'registry-secret').getByRole('button', { name: 'Detach' }).click();
  await page.getByRole('heading', { name: 'No image pull secrets attached' }).waitFor();
  const attached = await apiCall(ENV.ownerToken, 'GET', `/api/v1/organizations/${ENV.org}/hooks/${ids.hook}/image-pull-secrets`);
  assert.equal(attached.items.length, 0);
  await page.getByRole('button', { name: 'Attach image pull secret' }).first().click();
  d = await dialog(page);
  await d.getByLabel('registry-secret').check();
  await d.getByRole('button', { name: 'Save' }).click();
  await row(page, 'registry-secret').waitFor();

  // "Detach and delete" on an attached secret: the 409 with referrers is handled.
  await navTo(page, 'Image Pull Secrets');
  await row(page, 'registry-secret').getByRole('button', { name: 'Delete' }).click();
  d = await dialog(page);
  await d.getByRole('button', { name: 'Detach and delete' }).click();
  await d.waitFor({ state: 'detached' });
  await row(page, 'registry-secret').waitFor({ state: 'detached' });
  page.watcher.check();
});

step('every page, at 1280 and 390 px', async () => {
  const pages = [
    ['20-overview', ORG_BASE],
    ['21-agents', `${ORG_BASE}/agents`],
    ['22-agent', `${ORG_BASE}/agents/${ids.agent}`],
    ['23-agent-mcps', `${ORG_BASE}/agents/${ids.agent}/mcps`],
    ['24-agent-workloads', `${ORG_BASE}/agents/${ids.agent}/workloads`],
    ['25-mcps', `${ORG_BASE}/mcps`],
    ['26-mcp', `${ORG_BASE}/mcps/${ids.mcp}`],
    ['27-hooks', `${ORG_BASE}/hooks`],
    ['28-hook', `${ORG_BASE}/hooks/${ids.hook}/details`],
    ['29-secrets', `${ORG_BASE}/secrets`],
    ['30-secret-providers', `${ORG_BASE}/secret-providers`],
    ['31-image-pull-secrets', `${ORG_BASE}/image-pull-secrets`],
    ['32-monitoring', `${ORG_BASE}/monitoring`],
  ];
  await page.goto(`${ENV.url}${ORG_BASE}`);
  for (const [name, url] of pages) {
    // In-app navigation (history API), as a click on a link does; no document reload.
    await page.evaluate((path) => {
      history.pushState(null, '', path);
      window.dispatchEvent(new PopStateEvent('popstate'));
    }, url);
    await page.waitForFunction((path) => document.querySelector('main')?.dataset.rendered === path, url);
    await page.waitForFunction(() => !document.querySelector('main .loading'));
    await screenshots(page, name);
  }
  // The navigation menu on a narrow screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole('button', { name: 'Menu' }).click();
  await page.getByRole('navigation', { name: 'Organization' }).getByRole('link', { name: 'Monitoring' }).waitFor();
  await page.screenshot({ path: `${ENV.artifacts}/33-menu-390.png` });
  await page.getByRole('navigation', { name: 'Organization' }).getByRole('link', { name: 'Agents', exact: true }).click();
  await page.waitForURL(`**${ORG_BASE}/agents`);
  await page.setViewportSize({ width: 1280, height: 800 });
  page.watcher.check();
});
