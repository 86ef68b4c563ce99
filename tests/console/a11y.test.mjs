// a11y.test.mjs — an automated accessibility check (axe-core, pinned in package-lock.json) of
// every Console page, signed out and signed in as an owner: no serious or critical violation of
// WCAG 2.x A/AA rules.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENV, launch, newPage, signIn, apiCall } from './helpers.mjs';

const AXE_SOURCE = fs.readFileSync(
  path.join(path.dirname(fileURLToPath(import.meta.url)), 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

let API;
let ORG;
let ownerToken;
let agent;
let browser;

before(async () => {
  const org = await apiCall(ENV.adminToken, 'POST', '/api/v1/organizations', { name: `a11y-${Date.now()}` });
  ORG = `/organizations/${org.id}`;
  API = `/api/v1${ORG}`;
  ownerToken = (await apiCall(ENV.adminToken, 'POST', `${API}/tokens`, { name: 'owner', role: 'owner' })).token;
  agent = await apiCall(ownerToken, 'POST', `${API}/agents`, { name: 'support', image: ENV.images.agent });
  await apiCall(ownerToken, 'POST', `${API}/image-pull-secrets`, {
    name: 'registry', registry: ENV.registry, username: ENV.registryUser, password: ENV.registryPassword,
  });
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
});

/** Serious and critical violations on the page as it is now, as readable lines. */
async function violations(page) {
  // Evaluated, not added as a <script>: the Console's CSP (rightly) refuses inline scripts.
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`);
}

test('the sign-in page has no serious or critical accessibility violation', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${ENV.url}/sign-in`);
  await page.getByLabel('API token').waitFor();
  assert.deepEqual(await violations(page), []);
  await page.close();
});

test('every page of an organization has no serious or critical accessibility violation', async () => {
  const page = await newPage(browser.context);
  await signIn(page, ownerToken);
  const pages = ['', '/agents', `/agents/${agent.id}`, '/mcps', '/hooks', '/monitoring', '/image-pull-secrets',
    '/secrets', '/secret-providers', '/tokens'];
  const found = [];
  for (const suffix of pages) {
    await page.goto(`${ENV.url}${ORG}${suffix}`);
    await page.locator('h1').first().waitFor();
    await page.waitForTimeout(100);
    for (const line of await violations(page)) found.push(`${ORG}${suffix}: ${line}`);
  }
  assert.deepEqual(found, []);
  await page.close();
});
