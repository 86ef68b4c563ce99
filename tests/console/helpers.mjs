// helpers.mjs — shared by the Console tests: the environment test_console.py hands over, a
// fresh chromium profile per browser, signing in, API calls with a token, screenshots, and a
// guard that fails a test on page errors or CSP violations.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const REQUIRED = [
  'AGYN_CONSOLE_URL', 'AGYN_ADMIN_TOKEN', 'AGYN_ORG_ID', 'AGYN_OWNER_TOKEN', 'AGYN_MEMBER_TOKEN',
  'AGYN_REGISTRY_HOST', 'AGYN_REGISTRY_USER', 'AGYN_REGISTRY_PASSWORD', 'AGYN_IMAGE_AGENT',
  'AGYN_IMAGE_MCP', 'AGYN_IMAGE_HOOK', 'AGYN_VAULT_ADDR', 'AGYN_VAULT_TOKEN', 'AGYN_VAULT_PATH',
];

export function environment() {
  const missing = REQUIRED.filter((key) => !process.env[key]);
  if (missing.length) {
    throw new Error(`missing ${missing.join(', ')}: run these tests through tests/integration/test_console.py `
      + '(or its "serve" mode)');
  }
  const e = process.env;
  return {
    url: e.AGYN_CONSOLE_URL.replace(/\/$/, ''),
    adminToken: e.AGYN_ADMIN_TOKEN,
    org: e.AGYN_ORG_ID,
    orgName: e.AGYN_ORG_NAME || 'acme',
    ownerToken: e.AGYN_OWNER_TOKEN,
    memberToken: e.AGYN_MEMBER_TOKEN,
    registry: e.AGYN_REGISTRY_HOST,
    registryUser: e.AGYN_REGISTRY_USER,
    registryPassword: e.AGYN_REGISTRY_PASSWORD,
    images: { agent: e.AGYN_IMAGE_AGENT, mcp: e.AGYN_IMAGE_MCP, hook: e.AGYN_IMAGE_HOOK },
    vault: { address: e.AGYN_VAULT_ADDR, token: e.AGYN_VAULT_TOKEN, path: e.AGYN_VAULT_PATH },
    chromium: e.AGYN_CHROMIUM || '/usr/bin/chromium',
    artifacts: e.AGYN_ARTIFACTS_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'artifacts', 'console'),
  };
}

export const ENV = environment();

/** A browser with a fresh profile directory (removed by close()). */
export async function launch() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'agyn-console-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: ENV.chromium,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(10000);
  const close = async () => {
    await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

/**
 * Collects uncaught page errors, console errors other than the expected 401 of the first
 * session probe, and CSP violations; check() asserts there were none.
 */
export function watchPage(page) {
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    const text = message.text();
    if (message.type() !== 'error') return;
    if (/status of (401|404|409|422)/.test(text)) return; // API answers the UI handles
    problems.push(`console error: ${text}`);
  });
  return {
    problems,
    check() {
      assert.deepEqual(problems, [], 'the page logged errors');
    },
  };
}

export async function newPage(context) {
  const page = await context.newPage();
  const watcher = watchPage(page);
  page.watcher = watcher;
  return page;
}

export async function signIn(page, token) {
  await page.goto(`${ENV.url}/sign-in`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/sign-in'));
}

/** Clicks an item of the left navigation (opening the menu first on narrow screens). */
export async function navTo(page, label) {
  const toggle = page.getByRole('button', { name: 'Menu' });
  if (await toggle.isVisible()) {
    if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  }
  await page.getByRole('navigation', { name: 'Organization' }).getByRole('link', { name: label, exact: true }).click();
}

/** Screenshots at 1280 and 390 px wide (full page) into tests/artifacts/console/. */
export async function screenshots(page, name) {
  fs.mkdirSync(ENV.artifacts, { recursive: true });
  const original = page.viewportSize();
  for (const [width, height] of [[1280, 800], [390, 844]]) {
    await page.setViewportSize({ width, height });
    await page.waitForTimeout(60);
    await page.screenshot({ path: path.join(ENV.artifacts, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize(original);
}

/** The API with a bearer token (for set-up the tests do not click through). */
export async function apiCall(token, method, apiPath, body) {
  const response = await fetch(`${ENV.url}${apiPath}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(`${method} ${apiPath}: ${response.status} ${text}`);
  return data;
}

/** Counts full document loads of a page; same-document (history API) navigations are not. */
export function countDocumentLoads(page) {
  const counter = { loads: 0, documents: 0 };
  page.on('load', () => { counter.loads += 1; });
  page.on('request', (request) => {
    if (request.resourceType() === 'document' && request.frame() === page.mainFrame()) counter.documents += 1;
  });
  return counter;
}
