// selection.test.mjs — the agent's "Image pull secrets" tab shows the API's answer to which
// secrets the runner tries for the image and in which order (matches_image, try_order): more
// specific first, then attachment order, then those that do not match. IPv6 hosts with ports
// (the Console once matched "[::1]:5000" to "[::1]:6000/..." itself) and wildcards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ENV, launch, newPage, signIn, apiCall } from './helpers.mjs';

// This file works in an organization of its own, so it can run in any order with the others.
let ORG_BASE;
let API;
let ownerToken;
let browser;
let agent;

before(async () => {
  const org = await apiCall(ENV.adminToken, 'POST', '/api/v1/organizations', { name: `selection-${Date.now()}` });
  ORG_BASE = `/organizations/${org.id}`;
  API = `/api/v1/organizations/${org.id}`;
  ownerToken = (await apiCall(ENV.adminToken, 'POST', `${API}/tokens`, { name: 'owner', role: 'owner' })).token;
  agent = await apiCall(ownerToken, 'POST', `${API}/agents`, { name: 'ordered', image: '[::1]:6000/team/app:v1' });
  const secrets = {};
  for (const [name, registry] of [['alpha-port-5000', '[::1]:5000'], ['bravo-port-6000', '[::1]:6000'],
    ['charlie-team', '[::1]:6000/team'], ['delta-wild', '*.example.com'], ['echo-port-6000', '[::1]:6000']]) {
    secrets[name] = await apiCall(ownerToken, 'POST', `${API}/image-pull-secrets`, {
      name, registry, username: 'u', password: 'not-a-real-password',
    });
  }
  for (const name of ['alpha-port-5000', 'bravo-port-6000']) {
    await apiCall(ownerToken, 'POST', `${API}/image-pull-secret-attachments`, {
      image_pull_secret_id: secrets[name].id, agent_id: agent.id,
    });
  }
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
});

async function shownRows(page) {
  return page.locator('section tr[data-name]').evaluateAll((rows) => rows.map((tr) => ({
    name: tr.dataset.name,
    tried: tr.querySelector('td[data-label="Tried"]').textContent.trim(),
    matches: tr.textContent.includes('Matches the image'),
  })));
}

test('the image pull secrets tab lists secrets in the order the runner tries them', async () => {
  const page = await newPage(browser.context);
  await signIn(page, ownerToken);
  await page.waitForURL(`**${ORG_BASE}`);
  await page.goto(`${ENV.url}${ORG_BASE}/agents/${agent.id}`);
  await page.getByRole('tab', { name: 'Image pull secrets' }).click();
  await page.locator('section tr[data-name="bravo-port-6000"]').waitFor();
  assert.deepEqual(await shownRows(page), [
    { name: 'bravo-port-6000', tried: '1st', matches: true },
    { name: 'alpha-port-5000', tried: 'Not used', matches: false },
  ]);

  // The Attach dialog states the rule: specificity first, then attachment order.
  await page.getByRole('button', { name: 'Attach image pull secret' }).first().click();
  const d = page.locator('dialog[open]');
  await d.waitFor();
  const hint = await d.locator('.hint').first().textContent();
  assert.match(hint, /more specific first/);
  assert.match(hint, /then in attachment order/);
  assert.doesNotMatch(hint, /tries the ones matching the image's registry in attachment order/);
  for (const name of ['charlie-team', 'delta-wild', 'echo-port-6000']) await d.getByLabel(name).check();
  await d.getByRole('button', { name: 'Save' }).click();
  await d.waitFor({ state: 'detached' });
  await page.locator('section tr[data-name="echo-port-6000"]').waitFor();

  // The path makes charlie-team the most specific; bravo and echo keep their attachment order.
  assert.deepEqual(await shownRows(page), [
    { name: 'charlie-team', tried: '1st', matches: true },
    { name: 'bravo-port-6000', tried: '2nd', matches: true },
    { name: 'echo-port-6000', tried: '3rd', matches: true },
    { name: 'alpha-port-5000', tried: 'Not used', matches: false },
    { name: 'delta-wild', tried: 'Not used', matches: false },
  ]);
  // What is shown is the API's answer, not a computation of the Console's own.
  const answer = await apiCall(ownerToken, 'GET', `${API}/agents/${agent.id}/image-pull-secrets`);
  assert.deepEqual(answer.items.map((s) => [s.name, s.try_order]), [
    ['alpha-port-5000', null], ['bravo-port-6000', 2], ['charlie-team', 1], ['delta-wild', null],
    ['echo-port-6000', 3],
  ]);
  page.watcher.check();
});
