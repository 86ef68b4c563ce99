// app.js — the Console's entry point: the session (an HttpOnly cookie the server set at
// sign-in; this code only ever holds the CSRF token, in memory), history-API routing, and the
// shell with the organization's navigation. Pages live in pages/*.js and are loaded on demand.
import * as api from './lib/api.js';
import * as events from './lib/events.js';
import { h, clear, replaceChildren, alertBox, loading, badge, toast, button } from './lib/dom.js';

const session = { signedIn: false, role: null, organizationId: null, tokenId: null };
const orgNames = new Map();

const ROUTES = [
  { path: '/sign-in', page: 'sign-in', public: true },
  { path: '/', page: null },
  { path: '/organizations', page: 'organizations' },
  { path: '/organizations/:org', page: 'overview', nav: 'overview' },
  { path: '/organizations/:org/agents', page: 'agents', nav: 'agents' },
  { path: '/organizations/:org/agents/:id', page: 'agent', nav: 'agents' },
  { path: '/organizations/:org/agents/:id/:tab', page: 'agent', nav: 'agents' },
  { path: '/organizations/:org/mcps', page: 'parts', nav: 'mcps', kind: 'mcp' },
  { path: '/organizations/:org/mcps/:id', page: 'part', nav: 'mcps', kind: 'mcp' },
  { path: '/organizations/:org/mcps/:id/:tab', page: 'part', nav: 'mcps', kind: 'mcp' },
  { path: '/organizations/:org/hooks', page: 'parts', nav: 'hooks', kind: 'hook' },
  { path: '/organizations/:org/hooks/:id', page: 'part', nav: 'hooks', kind: 'hook' },
  { path: '/organizations/:org/hooks/:id/:tab', page: 'part', nav: 'hooks', kind: 'hook' },
  { path: '/organizations/:org/monitoring', page: 'monitoring', nav: 'monitoring' },
  { path: '/organizations/:org/image-pull-secrets', page: 'image-pull-secrets', nav: 'image-pull-secrets' },
  { path: '/organizations/:org/image-pull-secrets/import', page: 'import', nav: 'image-pull-secrets' },
  { path: '/organizations/:org/secrets', page: 'secrets', nav: 'secrets' },
  { path: '/organizations/:org/secret-providers', page: 'secret-providers', nav: 'secret-providers' },
  { path: '/organizations/:org/tokens', page: 'tokens', nav: 'tokens' },
];

const NAV = [
  { items: [{ id: 'overview', label: 'Overview', path: '' }] },
  { title: 'Build', items: [
    { id: 'agents', label: 'Agents', path: '/agents' },
    { id: 'mcps', label: 'MCP servers', path: '/mcps' },
    { id: 'hooks', label: 'Hooks', path: '/hooks' },
  ] },
  { title: 'Run', items: [{ id: 'monitoring', label: 'Monitoring', path: '/monitoring' }] },
  { title: 'Credentials', items: [
    { id: 'image-pull-secrets', label: 'Image Pull Secrets', path: '/image-pull-secrets' },
    { id: 'secrets', label: 'Secrets', path: '/secrets' },
    { id: 'secret-providers', label: 'Secret providers', path: '/secret-providers' },
  ] },
  { title: 'Access', items: [{ id: 'tokens', label: 'API tokens', path: '/tokens', ownerOnly: true }] },
];

function match(pathname) {
  const parts = pathname.replace(/\/+$/, '').split('/').filter(Boolean);
  for (const route of ROUTES) {
    const pattern = route.path.split('/').filter(Boolean);
    if (pattern.length !== parts.length) continue;
    const params = {};
    let ok = true;
    pattern.forEach((segment, i) => {
      if (segment.startsWith(':')) params[segment.slice(1)] = decodeURIComponent(parts[i]);
      else if (segment !== parts[i]) ok = false;
    });
    if (ok) return { route, params };
  }
  return null;
}

/* ---------- navigation ---------- */

let renderSerial = 0;
let cleanups = [];
let firstRender = true;

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render();
}

function runCleanups() {
  const list = cleanups;
  cleanups = [];
  for (const fn of list) {
    try {
      fn();
    } catch (error) {
      console.error(error);
    }
  }
}

document.addEventListener('click', (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const anchor = event.target.closest('a[href]');
  if (!anchor || anchor.target || anchor.hasAttribute('download')) return;
  const url = new URL(anchor.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
  if (url.pathname === location.pathname && url.search === location.search && url.hash) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
});

window.addEventListener('popstate', () => render());

/* ---------- session ---------- */

// Whether this browser may hold a session cookie (the cookie itself is HttpOnly): remembered
// at sign-in, forgotten at sign-out or a 401, so a browser that never signed in does not ask
// GET /api/v1/session on every page and get a 401 logged to its console. Not a secret.
const SIGNED_IN_HINT = 'agyn.console.signedIn';
function rememberSignedIn(yes) {
  try {
    if (yes) localStorage.setItem(SIGNED_IN_HINT, '1');
    else localStorage.removeItem(SIGNED_IN_HINT);
  } catch {
    /* storage disabled: the session check then always runs */
  }
}
function maySignedIn() {
  try {
    return localStorage.getItem(SIGNED_IN_HINT) === '1';
  } catch {
    return true;
  }
}

function applySession(data) {
  rememberSignedIn(true);
  session.signedIn = true;
  session.role = data.role;
  session.organizationId = data.organization_id || null;
  session.tokenId = data.token_id || null;
  api.setCsrfToken(data.csrf_token);
}

function dropSession() {
  rememberSignedIn(false);
  session.signedIn = false;
  session.role = null;
  session.organizationId = null;
  session.tokenId = null;
  api.setCsrfToken(null);
  events.disconnect();
  orgNames.clear();
  shell = null;
}

async function loadSession() {
  if (!maySignedIn()) {
    dropSession();
    return;
  }
  try {
    applySession(await api.get('/api/v1/session', { auth: false }));
  } catch (error) {
    if (error.status === 401 || error.status === 404) dropSession();
    else throw error;
  }
}

api.onUnauthorized(() => {
  if (!session.signedIn) return;
  dropSession();
  const next = location.pathname + location.search;
  navigate(`/sign-in?ended=1&next=${encodeURIComponent(next)}`, { replace: true });
});

function landingPath() {
  if (session.organizationId) return `/organizations/${session.organizationId}`;
  return '/organizations';
}

async function signIn(token) {
  const data = await api.post('/api/v1/session', { token }, { auth: false });
  applySession(data);
  const next = new URLSearchParams(location.search).get('next');
  const safe = next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/sign-in') ? next : null;
  navigate(safe || landingPath(), { replace: true });
}

async function signOut() {
  try {
    await api.del('/api/v1/session', { auth: false });
  } catch (error) {
    if (error.status !== 401) {
      toast(`Sign-out failed: ${error.message}`, 'danger');
      return;
    }
  }
  dropSession();
  navigate('/sign-in?signed_out=1', { replace: true });
}

/* ---------- the shell ---------- */

let shell = null;

function buildShell(org) {
  const navList = h('div', { class: 'nav-groups' });
  const orgLabel = h('span', { class: 'org-name' }, org ? (orgNames.get(org) || 'Organization') : 'Server admin');
  const menuButton = h('button', { type: 'button', class: 'menu-toggle', 'aria-expanded': 'false', 'aria-controls': 'sidebar-nav' },
    h('span', { class: 'menu-icon', 'aria-hidden': 'true' }), 'Menu');
  const nav = h('nav', { id: 'sidebar-nav', class: 'sidebar-nav', 'aria-label': org ? 'Organization' : 'Server' },
    h('div', { class: 'org-card' },
      h('span', { class: 'eyebrow' }, 'Organization'),
      orgLabel,
      session.role === 'admin' ? h('a', { href: '/organizations', class: 'org-switch' }, 'All organizations') : null),
    navList,
    h('div', { class: 'sidebar-footer' },
      h('span', { class: 'who' }, 'Signed in as ', badge(session.role || 'unknown', 'neutral', { class: 'badge badge-neutral role-badge' })),
      button('Sign out', signOut, { kind: 'ghost', size: 'sm', class: 'btn btn-ghost btn-sm sign-out' })));
  menuButton.addEventListener('click', () => {
    const open = menuButton.getAttribute('aria-expanded') !== 'true';
    menuButton.setAttribute('aria-expanded', open ? 'true' : 'false');
    nav.classList.toggle('open', open);
  });
  const home = org ? `/organizations/${org}` : '/organizations';
  const outlet = h('main', { id: 'main', class: 'main', tabindex: '-1' });
  const root = h('div', { class: 'shell' },
    h('a', { href: '#main', class: 'skip-link' }, 'Skip to content'),
    h('aside', { class: 'sidebar' },
      h('div', { class: 'sidebar-top' },
        h('a', { href: home, class: 'brand', title: 'agyn Console home' },
          h('span', { class: 'brand-mark brand-mark-drawn', 'aria-hidden': 'true' }),
          h('span', { class: 'brand-name' }, 'agyn'), ' ', h('span', { class: 'brand-sub' }, 'Console')),
        menuButton),
      nav),
    outlet);
  const skip = root.querySelector('.skip-link');
  skip.addEventListener('click', (event) => {
    event.preventDefault();
    outlet.focus();
  });
  const links = new Map();
  if (org) {
    for (const group of NAV) {
      const ul = h('ul', { class: 'nav-list' });
      const visible = group.items.filter((item) => !item.ownerOnly || session.role !== 'member');
      if (!visible.length) continue;
      for (const item of visible) {
        const a = h('a', { href: `/organizations/${org}${item.path}`, class: 'nav-link', dataset: { nav: item.id } },
          h('span', { class: `nav-icon icon-${item.id}`, 'aria-hidden': 'true' }), item.label);
        links.set(item.id, a);
        ul.appendChild(h('li', null, a));
      }
      navList.appendChild(h('div', { class: 'nav-group' }, group.title ? h('h2', { class: 'nav-title' }, group.title) : null, ul));
    }
  } else {
    const a = h('a', { href: '/organizations', class: 'nav-link', dataset: { nav: 'organizations' } },
      h('span', { class: 'nav-icon icon-overview', 'aria-hidden': 'true' }), 'Organizations');
    links.set('organizations', a);
    navList.appendChild(h('div', { class: 'nav-group' }, h('ul', { class: 'nav-list' }, h('li', null, a))));
  }
  return { org, root, outlet, links, orgLabel, nav, menuButton };
}

function setActiveNav(id) {
  for (const [key, a] of shell.links) {
    if (key === id) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  shell.nav.classList.remove('open');
  shell.menuButton.setAttribute('aria-expanded', 'false');
}

async function ensureOrgName(org) {
  if (orgNames.has(org)) return orgNames.get(org);
  const data = await api.get(api.orgPath(org));
  orgNames.set(org, data.name);
  return data.name;
}

/* ---------- rendering a route ---------- */

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The id of the organization named name among those the session sees, or null. */
async function organizationIdByName(name) {
  let pageToken;
  for (let page = 0; page < 100; page++) {
    const data = await api.get('/api/v1/organizations', { query: { page_size: 100, page_token: pageToken } });
    const hit = (data.items || []).find((o) => o.name === name);
    if (hit) {
      orgNames.set(hit.id, hit.name);
      return hit.id;
    }
    pageToken = data.next_page_token;
    if (!pageToken) return null;
  }
  return null;
}

const app = document.getElementById('app');

function setTitle(parts) {
  document.title = [...parts.filter(Boolean), 'agyn Console'].join(' · ');
}

async function render() {
  const serial = ++renderSerial;
  runCleanups();
  const found = match(location.pathname);
  if (!found) {
    renderNotFound();
    return;
  }
  const { route, params } = found;
  if (!route.public && !session.signedIn) {
    const next = location.pathname === '/' ? '' : `?next=${encodeURIComponent(location.pathname + location.search)}`;
    history.replaceState(null, '', `/sign-in${next}`);
    return render();
  }
  if (route.page === null || (route.public && session.signedIn)) {
    history.replaceState(null, '', landingPath());
    return render();
  }
  if (route.path === '/organizations' && session.role !== 'admin' && session.organizationId) {
    history.replaceState(null, '', landingPath());
    return render();
  }
  // An organization named as the CLI accepts it (/organizations/acme/...): redirect to its id.
  if (params.org && !UUID_PATTERN.test(params.org)) {
    const id = await organizationIdByName(params.org).catch(() => null);
    if (serial !== renderSerial) return;
    if (id) {
      const segments = location.pathname.split('/'); // ['', 'organizations', '<name>', ...]
      segments[2] = id;
      history.replaceState(null, '', `${segments.join('/')}${location.search}`);
      return render();
    }
  }

  const ctx = {
    params,
    route,
    org: params.org || null,
    session,
    query: new URLSearchParams(location.search),
    canWrite: session.role === 'owner' || session.role === 'admin',
    navigate,
    signIn,
    isCurrent: () => serial === renderSerial,
    onCleanup: (fn) => {
      if (serial === renderSerial) cleanups.push(fn);
      else fn();
    },
    setTitle: (title) => setTitle([title, params.org ? orgNames.get(params.org) : null]),
  };

  if (route.public) {
    shell = null;
    events.disconnect();
    const module = await import(`./pages/${route.page}.js`);
    if (serial !== renderSerial) return;
    const node = await module.default(ctx);
    if (serial !== renderSerial) return;
    replaceChildren(app, node);
    app.className = 'public';
    firstRender = false;
    return;
  }

  const org = params.org || null;
  if (!shell || shell.org !== org) {
    shell = buildShell(org);
    replaceChildren(app, shell.root);
    app.className = '';
    if (org) events.connect(org);
    else events.disconnect();
  }
  setActiveNav(route.nav || 'organizations');
  const outlet = shell.outlet;
  delete outlet.dataset.rendered;
  const slow = setTimeout(() => {
    if (serial === renderSerial) replaceChildren(outlet, loading());
  }, 150);
  try {
    if (org) {
      const name = await ensureOrgName(org);
      if (shell && shell.org === org) shell.orgLabel.textContent = name;
    }
    const module = await import(`./pages/${route.page}.js`);
    if (serial !== renderSerial) return;
    const node = await module.default(ctx);
    if (serial !== renderSerial) return;
    clearTimeout(slow);
    replaceChildren(outlet, node);
    outlet.dataset.rendered = location.pathname;
  } catch (error) {
    clearTimeout(slow);
    if (serial !== renderSerial || error.status === 401) return;
    console.error(error);
    const retry = button('Try again', () => render(), { kind: 'default' });
    const message = error.status === 404 ? `${error.message}. It may have been deleted, or it belongs to another organization.` : error.message;
    replaceChildren(outlet, h('div', { class: 'page' },
      h('h1', { class: 'page-title', tabindex: '-1' }, error.status === 404 ? 'Not found' : 'Something went wrong'),
      alertBox(message || String(error)), h('p', null, retry)));
    setTitle([error.status === 404 ? 'Not found' : 'Error']);
  }
  if (!firstRender) {
    const heading = outlet.querySelector('h1');
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus({ preventScroll: true });
    }
    window.scrollTo(0, 0);
  }
  firstRender = false;
}

function renderNotFound() {
  const target = session.signedIn ? landingPath() : '/sign-in';
  replaceChildren(app, h('div', { class: 'public-page' },
    h('div', { class: 'card auth-card' },
      h('h1', { class: 'page-title' }, 'Page not found'),
      h('p', { class: 'muted' }, 'There is nothing at this address.'),
      h('p', null, h('a', { href: target, class: 'btn btn-primary' }, session.signedIn ? 'Go to the Console' : 'Sign in')))));
  app.className = 'public';
  setTitle(['Not found']);
}

async function start() {
  try {
    await loadSession();
  } catch (error) {
    clear(app);
    app.appendChild(h('div', { class: 'public-page' }, alertBox(`The Console could not reach the server: ${error.message}`)));
    return;
  }
  await render();
}

start();
