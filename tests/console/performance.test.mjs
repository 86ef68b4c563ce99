// performance.test.mjs — an organization with 1000 image pull secrets: the list pages through
// the API 100 at a time, renders every row in one DOM build well under a second, and search
// stays instant.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ENV, launch, newPage, signIn, navTo, apiCall } from './helpers.mjs';

const COUNT = 1000;
let browser;
let org;
let ownerToken;

before(async () => {
  org = await apiCall(ENV.adminToken, 'POST', '/api/v1/organizations', { name: `bulk-${Date.now()}` });
  const token = await apiCall(ENV.adminToken, 'POST', `/api/v1/organizations/${org.id}/tokens`, { name: 'owner', role: 'owner' });
  ownerToken = token.token;
  const base = `/api/v1/organizations/${org.id}`;
  const agent = await apiCall(ownerToken, 'POST', `${base}/agents`, { name: 'bulk-agent', image: ENV.images.agent });
  // One Docker config.json import creates them all (one image pull secret per auths entry).
  const auths = {};
  for (let i = 0; i < COUNT; i++) {
    auths[`r${String(i).padStart(4, '0')}.example.com`] = { auth: Buffer.from(`user-${i}:pw-${i}`).toString('base64') };
  }
  const imported = await apiCall(ownerToken, 'POST', `${base}/image-pull-secrets/import`, { auths });
  assert.equal(imported.created.length, COUNT, JSON.stringify(imported.errors).slice(0, 300));
  for (const secret of imported.created.filter((s) => s.name.endsWith('00.example.com'))) {
    await apiCall(ownerToken, 'POST', `${base}/image-pull-secret-attachments`, { image_pull_secret_id: secret.id, agent_id: agent.id });
  }
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
});

test(`${COUNT} image pull secrets: paged by 100, rendered in one build, searchable`, async () => {
  const page = await newPage(browser.context);
  await signIn(page, ownerToken);
  await page.waitForURL(`**/organizations/${org.id}`);
  const listRequests = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname === `/api/v1/organizations/${org.id}/image-pull-secrets`) listRequests.push(url.searchParams.get('page_size'));
  });

  const started = Date.now();
  await navTo(page, 'Image Pull Secrets');
  await page.waitForFunction((n) => document.querySelectorAll('.table-ips [role="row"][data-id]').length === n, COUNT, { timeout: 15000 });
  const elapsed = Date.now() - started;
  await page.waitForFunction(() => performance.getEntriesByName('console:image-pull-secrets:paint').length > 0);
  const [build, paint] = await page.evaluate(() => ['render', 'paint'].map((kind) =>
    performance.getEntriesByName(`console:image-pull-secrets:${kind}`).map((e) => e.duration)));
  console.log(`# ${COUNT} secrets: click to rows ${elapsed} ms (${listRequests.length} list requests to a sanitizer build), `
    + `DOM build ${build[0].toFixed(0)} ms, data to painted rows ${paint[0].toFixed(0)} ms`);

  assert.ok(listRequests.length <= COUNT / 100 + 1, `one request per 100 secrets: ${listRequests.length}`);
  assert.ok(listRequests.every((size) => size === '100'), `page_size=100 on every request: ${listRequests}`);
  assert.equal(build.length, 1, 'the rows are built once');
  // The figures above are printed for the record; a test that runs beside other suites on a
  // shared 2-core machine can only catch a pathological regression (rows built one by one into
  // the live DOM take many seconds), so the bounds are loose.
  assert.ok(build[0] < 3000, `building ${COUNT} rows took ${build[0]} ms`);
  assert.ok(paint[0] < 5000, `from data to painted rows took ${paint[0]} ms`);
  // The wall time includes ten requests to an ASan build on a shared machine: only a loose bound.
  assert.ok(elapsed < 15000, `from click to ${COUNT} rows took ${elapsed} ms`);
  assert.equal(await page.locator('.count').textContent(), `${COUNT} image pull secrets`);
  assert.equal(await page.locator('[role="row"][data-name="r0100.example.com"] .target-link').textContent(), 'agent bulk-agent');

  const searchStart = Date.now();
  await page.getByLabel('Search image pull secrets').fill('r0999');
  await page.waitForFunction(() => document.querySelectorAll('.table-ips [role="row"][data-id]').length === 1);
  const searchElapsed = Date.now() - searchStart;
  console.log(`# search to one row: ${searchElapsed} ms`);
  assert.ok(searchElapsed < 5000, `search took ${searchElapsed} ms`);
  await page.getByLabel('Search image pull secrets').fill('r09');
  await page.waitForFunction(() => document.querySelectorAll('.table-ips [role="row"][data-id]').length === 100);
  await page.getByLabel('Search image pull secrets').fill('');
  await page.waitForFunction((n) => document.querySelectorAll('.table-ips [role="row"][data-id]').length === n, COUNT);
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: `${ENV.artifacts}/40-image-pull-secrets-1000-1280.png` });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `${ENV.artifacts}/40-image-pull-secrets-1000-390.png` });
  page.watcher.check();
  await page.close();
});

