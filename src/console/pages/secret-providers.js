// secret-providers.js — /organizations/<org>/secret-providers: Vault and AWS Secrets Manager
// connections that remote passwords are read from. Credential fields are write-only.
import * as api from '../lib/api.js';
import {
  h, button, busy, toast, emptyState, table, timeAgo, code, field, choiceGroup, formDialog, formValue,
  confirmDialog, replaceChildren, badge, plural,
} from '../lib/dom.js';
import { load, PROVIDER_TYPES } from '../lib/model.js';

const CONFIG = {
  vault: [
    { key: 'address', label: 'Address', required: true, destination: true, placeholder: 'https://vault.example.com:8200', hint: 'The Vault server URL.' },
    { key: 'token', label: 'Token', secret: true, required: true, hint: 'A Vault token that can read the KV v2 paths you will use.' },
    { key: 'namespace', label: 'Namespace', optional: true, hint: 'Vault Enterprise namespace, if any.' },
  ],
  'aws-secrets-manager': [
    { key: 'region', label: 'Region', required: true, destination: true, placeholder: 'us-west-2' },
    { key: 'access_key_id', label: 'Access key ID', required: true },
    { key: 'secret_access_key', label: 'Secret access key', secret: true, required: true },
    { key: 'session_token', label: 'Session token', secret: true, optional: true },
    { key: 'endpoint_url', label: 'Endpoint URL', optional: true, destination: true, hint: 'Only for a non-default endpoint.' },
  ],
};

export default async function secretProvidersPage(ctx) {
  const { org } = ctx;
  ctx.setTitle('Secret providers');
  const body = h('div', { class: 'panel' });
  const results = new Map();
  let providers = [];
  let users = new Map();

  async function fetchAll() {
    const [list, secrets, ips] = await Promise.all([load.providers(org), load.secrets(org), load.imagePullSecrets(org)]);
    providers = list;
    users = new Map();
    const add = (item, key) => {
      if (!item.provider_id) return;
      const entry = users.get(item.provider_id) || { secrets: 0, ips: 0 };
      entry[key] += 1;
      users.set(item.provider_id, entry);
    };
    secrets.forEach((item) => add(item, 'secrets'));
    ips.forEach((item) => add(item, 'ips'));
  }

  function endpoint(p) {
    const c = p.config || {};
    if (p.type === 'vault') return h('div', { class: 'stack-xs' }, code(c.address || ''), c.namespace ? h('span', { class: 'muted small' }, `namespace ${c.namespace}`) : null);
    return h('div', { class: 'stack-xs' }, code(c.region || ''), c.endpoint_url ? h('span', { class: 'muted small' }, c.endpoint_url) : null);
  }

  function resultSlot(p) {
    const slot = h('p', { class: 'verify-result', 'aria-live': 'polite' });
    const result = results.get(p.id);
    if (result) {
      slot.className = `verify-result ${result.ok ? 'ok' : 'failed'}`;
      slot.append(h('span', { class: 'verify-icon', 'aria-hidden': 'true' }, result.ok ? '✓' : '!'), result.ok ? 'Connected and authenticated' : `Failed: ${result.message}`);
    }
    return slot;
  }

  function render() {
    if (!providers.length) {
      replaceChildren(body, emptyState({
        title: 'No secret providers yet',
        body: 'Connect HashiCorp Vault or AWS Secrets Manager to keep registry passwords there. agyn reads them at each workload start, so rotating at the provider needs no change here.',
        actions: ctx.canWrite ? [button('New secret provider', () => openForm(null), { kind: 'primary' })] : [],
      }));
      return;
    }
    replaceChildren(body, table({
      caption: 'Secret providers',
      columns: [{ label: 'Name' }, { label: 'Type' }, { label: 'Endpoint' }, { label: 'Credentials' }, { label: 'Used by' }, { label: 'Created', className: 'col-time' }, { label: 'Actions', className: 'col-actions' }],
      rows: providers.map((p) => {
        const slot = resultSlot(p);
        const test = button('Test connection', null, { size: 'sm', 'aria-label': `Test connection of ${p.name}` });
        test.addEventListener('click', async () => {
          const done = busy(test, 'Testing…');
          try {
            results.set(p.id, await api.post(api.orgPath(org, `/secret-providers/${p.id}/test`), {}));
          } catch (error) {
            results.set(p.id, { ok: false, message: error.message });
          }
          done();
          render();
        });
        return {
          attrs: { dataset: { id: p.id, name: p.name } },
          cells: [
            h('span', { class: 'cell-title' }, p.name),
            badge(PROVIDER_TYPES[p.type] || p.type, 'info'),
            endpoint(p),
            (p.secret_fields_set || []).length ? h('span', { class: 'small' }, `${p.secret_fields_set.join(', ')} set`) : h('span', { class: 'muted' }, 'None'),
            users.get(p.id) ? h('div', { class: 'stack-xs small' },
              users.get(p.id).ips ? h('span', null, plural(users.get(p.id).ips, 'image pull secret')) : null,
              users.get(p.id).secrets ? h('span', null, plural(users.get(p.id).secrets, 'Secret')) : null)
              : h('span', { class: 'muted' }, 'Unused'),
            timeAgo(p.created_at),
            h('div', null, h('div', { class: 'row-actions' }, test,
              ctx.canWrite ? button('Edit', () => openForm(p), { size: 'sm', 'aria-label': `Edit ${p.name}` }) : null,
              ctx.canWrite ? button('Delete', () => openDelete(p), { size: 'sm', kind: 'danger-ghost', 'aria-label': `Delete ${p.name}` }) : null), slot),
          ],
        };
      }),
    }));
  }

  async function reload() {
    await fetchAll();
    if (ctx.isCurrent()) render();
  }

  function openForm(existing) {
    const isEdit = Boolean(existing);
    let type = existing ? existing.type : 'vault';
    const sections = {};
    for (const [key, fields] of Object.entries(CONFIG)) {
      sections[key] = h('div', { class: 'subfields', dataset: { mode: key } }, fields.map((f) => field({
        label: f.label, name: `config.${f.key}`, type: f.secret ? 'password' : 'text', autocomplete: f.secret ? 'new-password' : 'off',
        required: f.required && !(isEdit && f.secret), optional: f.optional, placeholder: f.placeholder,
        value: existing && !f.secret && existing.type === key ? (existing.config || {})[f.key] || '' : '',
        hint: isEdit && f.secret && (existing.secret_fields_set || []).includes(f.key) ? 'Set. Leave blank to keep it.' : f.hint,
      })));
    }
    // agyn sends stored credentials only to the destination they were given for: once the
    // address, region or endpoint changes, every credential that is set must be entered again.
    const destinationChanged = () => isEdit && CONFIG[existing.type].some((f) => f.destination
      && sections[existing.type].querySelector(`[name="config.${f.key}"]`).value.trim() !== ((existing.config || {})[f.key] || ''));
    const updateCredentialRule = () => {
      if (!isEdit) return;
      const moved = destinationChanged();
      for (const f of CONFIG[existing.type]) {
        if (!f.secret || !(existing.secret_fields_set || []).includes(f.key)) continue;
        const wrapper = sections[existing.type].querySelector(`[data-field="config.${f.key}"]`);
        wrapper.control.required = moved;
        wrapper.querySelector('.hint').textContent = moved
          ? `The destination changed: enter the ${f.label.toLowerCase()} again. agyn sends a stored credential only to the destination it was saved for.`
          : 'Set. Leave blank to keep it.';
      }
    };
    if (isEdit) sections[existing.type].addEventListener('input', updateCredentialRule);
    const setType = (next) => {
      type = next;
      for (const [key, section] of Object.entries(sections)) section.hidden = key !== type;
    };
    const fields = [field({ label: 'Name', name: 'name', required: true, value: existing?.name, autocomplete: 'off' })];
    if (!isEdit) {
      fields.push(choiceGroup({ legend: 'Type', name: 'type', value: type, onchange: setType, choices: [
        { value: 'vault', label: 'Vault', description: 'HashiCorp Vault, KV secrets engine version 2.' },
        { value: 'aws-secrets-manager', label: 'AWS Secrets Manager', description: 'Secrets by name or ARN, optionally a JSON key.' },
      ] }));
    }
    fields.push(sections.vault, sections['aws-secrets-manager']);
    setType(type);
    formDialog({
      title: isEdit ? `Edit ${existing.name}` : 'New secret provider',
      description: isEdit ? `${PROVIDER_TYPES[existing.type]}: the type cannot change.` : 'Where remote passwords are read from, at each workload start.',
      fields,
      onsubmit: async (form) => {
        const config = {};
        for (const f of CONFIG[type]) {
          const value = formValue(form, `config.${f.key}`).trim();
          if (isEdit) {
            const before = (existing.config || {})[f.key] || '';
            if (f.secret ? value : value !== before) config[f.key] = value || null;
          } else if (value) {
            config[f.key] = value;
          }
        }
        const name = formValue(form, 'name').trim();
        if (isEdit) {
          const bodyPatch = {};
          if (name !== existing.name) bodyPatch.name = name;
          if (Object.keys(config).length) bodyPatch.config = config;
          if (!Object.keys(bodyPatch).length) return;
          await api.patch(api.orgPath(org, `/secret-providers/${existing.id}`), bodyPatch);
          results.delete(existing.id);
          toast(`Secret provider “${name}” saved.`);
        } else {
          await api.post(api.orgPath(org, '/secret-providers'), { name, type, config });
          toast(`Secret provider “${name}” created.`);
        }
        await reload();
      },
    });
  }

  function openDelete(p) {
    const message = h('div', null, h('p', null, `Delete secret provider “${p.name}”? Its credentials are removed from agyn; nothing changes at the provider.`));
    confirmDialog({
      title: 'Delete secret provider',
      message,
      onconfirm: async () => {
        try {
          await api.del(api.orgPath(org, `/secret-providers/${p.id}`));
        } catch (error) {
          if (error.status === 409 && error.referrers) {
            replaceChildren(message, h('p', null, `“${p.name}” is still used by:`),
              h('ul', { class: 'referrers' }, error.referrers.map((r) => h('li', null,
                h('a', { href: `/organizations/${org}/${r.kind === 'secret' ? 'secrets' : 'image-pull-secrets'}` }, `${r.kind === 'secret' ? 'Secret' : 'Image pull secret'} ${r.name}`)))),
              h('p', { class: 'muted' }, 'Delete them or point them at another password source first.'));
            error.message = 'This provider is still in use.';
          }
          throw error;
        }
        toast(`Secret provider “${p.name}” deleted.`);
        await reload();
      },
    });
  }

  await fetchAll();
  render();
  return h('div', { class: 'page' },
    h('header', { class: 'page-header' },
      h('div', null,
        h('h1', { class: 'page-title' }, 'Secret providers'),
        h('p', { class: 'page-description' }, 'External secret stores. Image pull secrets and Secrets with a remote password read it from here when a workload starts.')),
      h('div', { class: 'page-actions' }, ctx.canWrite ? button('New secret provider', () => openForm(null), { kind: 'primary' }) : null)),
    body);
}
