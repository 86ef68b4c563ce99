// model.js — loading an organization's collections and describing them in words the pages
// share (password storage, attachment targets). Which secrets match an image, and in which
// order the runner tries them, is the API's answer (lib/attachments.js), not computed here.
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
