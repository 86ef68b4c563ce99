// workload-panels.test.mjs — what a container runs (the Command, Arguments and Environment
// fields of the agent and MCP server forms), the Logs panel of each container in Monitoring and
// on the agent's Workloads tab (this agynd runs the pull-only runtime, so the panel must say
// that there are no logs), and pull progress in Monitoring.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ENV, launch, newPage, signIn, apiCall } from './helpers.mjs';

const ORG_BASE = `/organizations/${ENV.org}`;
const API_BASE = `/api/v1/organizations/${ENV.org}`;
let browser;
let page;

before(async () => {
  browser = await launch();
  page = await newPage(browser.context);
  await signIn(page, ENV.ownerToken);
});

after(async () => {
  if (browser) await browser.close();
});

async function openDialog() {
  const d = page.locator('dialog[open]');
  await d.waitFor();
  return d;
}

test('the agent form sets command, args and env, and edits them', async () => {
  const name = `run-${Date.now()}`;
  await page.goto(`${ENV.url}${ORG_BASE}/agents`);
  await page.getByRole('button', { name: 'New agent' }).first().click();
  let d = await openDialog();
  await d.getByLabel('Name').fill(name);
  await d.getByLabel('Image').fill(ENV.images.agent);
  await d.getByLabel('Command').fill('/bin/sh\n-c');
  await d.getByLabel('Arguments').fill('echo "$GREETING"; sleep 5\nsh');
  await d.getByLabel('Environment').fill('GREETING=hi there\nnot a pair');
  await d.getByRole('button', { name: 'Create agent' }).click();
  // A bad line is named beside the Environment field, nothing is sent.
  await d.locator('[data-field="env"] .field-error').filter({ hasText: 'not KEY=VALUE' }).waitFor();
  await d.getByLabel('Environment').fill('GREETING=hi there\nEMPTY=');
  await d.getByRole('button', { name: 'Create agent' }).click();
  await page.waitForURL('**/agents/*');
  const id = page.url().split('/').pop();
  const agent = await apiCall(ENV.ownerToken, 'GET', `${API_BASE}/agents/${id}`);
  assert.deepEqual([agent.command, agent.args, agent.env],
    [['/bin/sh', '-c'], ['echo "$GREETING"; sleep 5', 'sh'], { GREETING: 'hi there', EMPTY: '' }]);
  // Shown on the agent page; the edit form starts from the stored values and clears one.
  await page.locator('.run-spec').getByText('GREETING=hi there').waitFor();
  await page.getByRole('button', { name: 'Edit' }).click();
  d = await openDialog();
  assert.equal(await d.getByLabel('Command').inputValue(), '/bin/sh\n-c');
  await d.getByLabel('Command').fill('');
  await d.getByRole('button', { name: 'Save' }).click();
  await d.waitFor({ state: 'detached' });
  const saved = await apiCall(ENV.ownerToken, 'GET', `${API_BASE}/agents/${id}`);
  assert.equal(saved.command, null);
  assert.deepEqual(saved.args, ['echo "$GREETING"; sleep 5', 'sh']);
  // An API error naming args[0] lands on the Arguments field.
  await page.getByRole('button', { name: 'Edit' }).click();
  d = await openDialog();
  await d.getByLabel('Arguments').fill('x'.repeat(5000));
  await d.getByRole('button', { name: 'Save' }).click();
  await d.locator('[data-field="args"] .field-error').filter({ hasText: 'longer than 4096' }).waitFor();
  await d.getByRole('button', { name: 'Cancel' }).click();
});

test('the MCP server form takes the same fields', async () => {
  const agent = await apiCall(ENV.ownerToken, 'POST', `${API_BASE}/agents`, { name: `mcp-run-${Date.now()}`, image: ENV.images.agent });
  await page.goto(`${ENV.url}${ORG_BASE}/agents/${agent.id}/mcps`);
  await page.getByRole('button', { name: 'New MCP server' }).first().click();
  const d = await openDialog();
  await d.getByLabel('Name').fill('files');
  await d.getByLabel('Image').fill(ENV.images.mcp);
  await d.getByLabel('Arguments').fill('--port\n7070');
  await d.getByLabel('Environment').fill('ROOT=/data');
  await d.getByRole('button', { name: 'Create MCP server' }).click();
  await page.waitForURL('**/mcps/*');
  const mcps = await apiCall(ENV.ownerToken, 'GET', `${API_BASE}/mcps?agent_id=${agent.id}`);
  assert.deepEqual([mcps.items[0].command, mcps.items[0].args, mcps.items[0].env], [null, ['--port', '7070'], { ROOT: '/data' }]);
  await page.getByRole('tab', { name: 'Details' }).click();
  await page.getByText('ROOT=/data').waitFor();
});

test('Logs panels in Monitoring and on the Workloads tab say the pull-only runtime keeps no logs', async () => {
  const agent = await apiCall(ENV.ownerToken, 'POST', `${API_BASE}/agents`, { name: `logs-${Date.now()}`, image: ENV.images.agent });
  const workload = await apiCall(ENV.memberToken, 'POST', `${API_BASE}/workloads`, { agent_id: agent.id });
  await page.goto(`${ENV.url}${ORG_BASE}/monitoring`);
  const card = page.locator(`article[data-workload-id="${workload.id}"]`);
  const toggle = card.getByRole('button', { name: `Logs of ${agent.name}`, exact: true });
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  const panel = card.locator('.log-panel');
  await panel.locator('[role=status]').filter({ hasText: 'pull-only runtime' }).waitFor();
  assert.equal(await panel.getAttribute('data-state'), 'none');
  // The panel survives the card being redrawn by live events (the workload moving on).
  await apiCall(ENV.memberToken, 'POST', `${API_BASE}/workloads/${workload.id}/stop`, {});
  await card.and(page.locator('[data-status="stopped"], [data-status="failed"]')).waitFor();
  await card.locator('.log-panel').waitFor();
  await card.getByRole('button', { name: `Close the logs of ${agent.name}` }).click();
  assert.equal(await card.locator('.log-panel').count(), 0);
  // The agent's Workloads tab has the same panel.
  await page.goto(`${ENV.url}${ORG_BASE}/agents/${agent.id}/workloads`);
  const tabCard = page.locator(`article[data-workload-id="${workload.id}"]`);
  await tabCard.getByRole('button', { name: `Logs of ${agent.name}`, exact: true }).click();
  await tabCard.locator('.log-panel [role=status]').filter({ hasText: 'no logs' }).waitFor();
});

test('Monitoring shows pull progress (bytes done of total) while an image is pulled', async () => {
  // This agynd runs the pull-only runtime, which reports no engine progress: the workload list
  // the page fetches is the real one, with pull_progress added to a waiting container as the
  // docker runtime reports it (test_docker_runtime covers the engine side).
  const agent = await apiCall(ENV.ownerToken, 'POST', `${API_BASE}/agents`, { name: `pull-${Date.now()}`, image: ENV.images.agent });
  const workload = await apiCall(ENV.memberToken, 'POST', `${API_BASE}/workloads`, { agent_id: agent.id });
  await page.route(`**${API_BASE}/workloads?*`, async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    for (const w of body.items) {
      if (w.id !== workload.id) continue;
      w.status = 'starting';
      w.updated_at = '2999-01-01T00:00:00.000Z'; // newer than any event, so it is what is shown
      w.containers[0] = { ...w.containers[0], status: 'waiting', reason: 'ContainerCreating', pull_progress: { bytes_done: 3 * 1048576, bytes_total: 12 * 1048576 } };
    }
    await route.fulfill({ response, json: body });
  });
  try {
    await page.goto(`${ENV.url}${ORG_BASE}/monitoring`);
    const card = page.locator(`article[data-workload-id="${workload.id}"]`);
    await card.getByText('Pulling 3.0 MiB of 12.0 MiB').waitFor();
    const bar = card.locator('progress');
    assert.equal(await bar.getAttribute('max'), String(12 * 1048576));
    assert.equal(await bar.getAttribute('value'), String(3 * 1048576));
  } finally {
    await page.unroute(`**${API_BASE}/workloads?*`);
  }
  page.watcher.check();
});
