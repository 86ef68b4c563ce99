// model.js — loading an organization's collections and describing them in words the pages
// share (password storage, attachment targets, registry matching).
import { listAll, orgPath } from './api.js';
import { h, badge, code } from './dom.js';

export const load = {
  agents: (org) => listAll(orgPath(org, '/agents')),
  mcps: (org, query) => listAll(orgPath(org, '/mcps'), query),
  hooks: (org, query) => listAll(orgPath(org, '/hooks'), query),
  providers: (org) => listAll(orgPath(org, '/secret-providers')),
  secrets: (org) => listAll(orgPath(org, '/secrets')),
  imagePullSecrets: (org, query) => listAll(orgPath(org, '/image-pull-secrets'), query),
  attachments: (org, query) => listAll(orgPath(org, '/image-pull-secret-attachments'), query),
  workloads: (org, query) => listAll(orgPath(org, '/workloads'), query),
};

export function byId(items) {
  return new Map(items.map((item) => [item.id, item]));
}

export const KIND = {
  agent: { noun: 'agent', nouns: 'agents', title: 'Agent', path: 'agents', column: 'agent_id', label: 'name' },
  mcp: { noun: 'MCP server', nouns: 'MCP servers', title: 'MCP server', path: 'mcps', column: 'mcp_id', label: 'name' },
  hook: { noun: 'hook', nouns: 'hooks', title: 'Hook', path: 'hooks', column: 'hook_id', label: 'event' },
};

export const PROVIDER_TYPES = {
  vault: 'Vault',
  'aws-secrets-manager': 'AWS Secrets Manager',
};

export function providerLabel(provider) {
  if (!provider) return 'a deleted provider';
  return `${provider.name} (${PROVIDER_TYPES[provider.type] || provider.type})`;
}

export function remotePathHint(type) {
  if (type === 'aws-secrets-manager') return 'The secret name or ARN, optionally #json-key: ci/registry#password.';
  return 'Vault KV v2 as <mount>/<path>/<key>: secret/ci/registry/password.';
}

/** The "Password storage" cell of an image pull secret (or the value storage of a Secret). */
export function storageCell(item, { providers, secrets, org }) {
  const source = item.password_source || item.value_source;
  if (source === 'inline') {
    return h('div', { class: 'stack-xs' }, badge('Inline', 'neutral'), h('span', { class: 'muted small' }, 'Encrypted in agyn'));
  }
  if (source === 'secret') {
    const secret = secrets && secrets.get(item.password_secret_id);
    return h('div', { class: 'stack-xs' }, badge('Secret', 'violet'),
      h('a', { href: `/organizations/${org}/secrets`, class: 'small' }, secret ? secret.name : 'a deleted secret'));
  }
  if (source === 'plugin') {
    return h('div', { class: 'stack-xs' }, badge('Plugin', 'neutral'), code(item.plugin || ''));
  }
  const provider = providers && providers.get(item.provider_id);
  if (source === 'ecr') {
    return h('div', { class: 'stack-xs' }, badge('Amazon ECR', 'info'),
      h('span', { class: 'small' }, provider ? provider.name : 'a deleted provider'));
  }
  return h('div', { class: 'stack-xs' }, badge('Remote', 'info'),
    h('span', { class: 'small' }, provider ? provider.name : 'a deleted provider'),
    item.remote_path ? code(item.remote_path) : null);
}

/** A link to an attachment's target, "agent support" style. */
export function targetLink(org, kind, item) {
  const meta = KIND[kind];
  const name = item ? item[meta.label] : '(deleted)';
  return h('a', { href: `/organizations/${org}/${meta.path}/${item ? item.id : ''}`, class: 'target-link' },
    h('span', { class: 'target-kind' }, meta.noun), ' ', name);
}

/* ---------- registries ---------- */

/** Registry host and repository path of an image reference, the way Docker reads it. */
export function imageRegistry(image) {
  if (!image) return null;
  let rest = image.split('@')[0];
  const slash = rest.indexOf('/');
  let host = 'docker.io';
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      host = first.toLowerCase();
      rest = rest.slice(slash + 1);
    }
  }
  if (host === 'index.docker.io' || host === 'registry-1.docker.io') host = 'docker.io';
  const colon = rest.lastIndexOf(':');
  let path = colon > rest.lastIndexOf('/') ? rest.slice(0, colon) : rest;
  if (host === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  return { host, path };
}

/** Whether an image pull secret's registry (host[:port][/path], '*' globs a label) serves image. */
export function registryMatches(registry, image) {
  const target = imageRegistry(image);
  if (!registry || !target) return false;
  const slash = registry.indexOf('/');
  const host = (slash < 0 ? registry : registry.slice(0, slash)).toLowerCase();
  const path = slash < 0 ? '' : registry.slice(slash + 1);
  const [hostName, hostPort = ''] = host.split(':');
  const [imageName, imagePort = ''] = target.host.split(':');
  if (hostPort !== imagePort) return false;
  const a = hostName.split('.');
  const b = imageName.split('.');
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== '*' && a[i] !== b[i]) return false;
  }
  return !path || target.path === path || target.path.startsWith(`${path}/`);
}
