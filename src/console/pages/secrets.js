// secrets.js — /organizations/<org>/secrets: named values (inline, or at a provider's remote
// path) that image pull secrets can take their password from. Values are write-only.
import * as api from '../lib/api.js';
import {
  h, button, toast, emptyState, table, timeAgo, field, choiceGroup, formDialog, formValue, confirmDialog,
  replaceChildren, alertBox,
} from '../lib/dom.js';
import { load, byId, storageCell, providerLabel, remotePathHint } from '../lib/model.js';

export default async function secretsPage(ctx) {
  const { org } = ctx;
  ctx.setTitle('Secrets');
  const body = h('div', { class: 'panel' });
  let secrets = [];
  let providers = new Map();
  let usedBy = new Map();

  async function fetchAll() {
    const [list, providerList, ips] = await Promise.all([load.secrets(org), load.providers(org), load.imagePullSecrets(org)]);
    secrets = list;
    providers = byId(providerList);
    usedBy = new Map();
    for (const item of ips) {
      if (!item.password_secret_id) continue;
      const names = usedBy.get(item.password_secret_id) || [];
      names.push(item.name);
      usedBy.set(item.password_secret_id, names);
    }
  }

  function render() {
    if (!secrets.length) {
      replaceChildren(body, emptyState({
        title: 'No secrets yet',
        body: 'A Secret is a named value — stored inline or at a secret provider — that several image pull secrets can share as their password.',
        actions: ctx.canWrite ? [button('New secret', () => openForm(null), { kind: 'primary' })] : [],
      }));
      return;
    }
    replaceChildren(body, table({
      caption: 'Secrets',
      columns: [{ label: 'Name' }, { label: 'Value storage' }, { label: 'Used by' }, { label: 'Value updated', className: 'col-time' }, { label: 'Actions', className: 'col-actions' }],
      rows: secrets.map((s) => ({
        attrs: { dataset: { id: s.id, name: s.name } },
        cells: [
          h('div', null, h('div', { class: 'cell-title' }, s.name), s.description ? h('div', { class: 'muted small' }, s.description) : null),
          storageCell(s, { providers, org }),
          usedBy.get(s.id) ? h('ul', { class: 'chips' }, usedBy.get(s.id).map((n) => h('li', null,
            h('a', { href: `/organizations/${org}/image-pull-secrets?q=${encodeURIComponent(n)}`, class: 'target-link' }, h('span', { class: 'target-kind' }, 'image pull secret'), ' ', n))))
            : h('span', { class: 'muted' }, 'Unused'),
          timeAgo(s.value_updated_at || s.updated_at),
          ctx.canWrite ? h('div', { class: 'row-actions' },
            button('Edit', () => openForm(s), { size: 'sm', 'aria-label': `Edit ${s.name}` }),
            button('Delete', () => openDelete(s), { size: 'sm', kind: 'danger-ghost', 'aria-label': `Delete ${s.name}` })) : null,
        ],
      })),
    }));
  }

  async function reload() {
    await fetchAll();
    if (ctx.isCurrent()) render();
  }

  function openForm(existing) {
    const isEdit = Boolean(existing);
    const providerList = [...providers.values()];
    let mode = existing ? existing.value_source : 'inline';
    const valueField = field({ label: 'Value', name: 'value', type: 'password', autocomplete: 'new-password',
      required: !(isEdit && existing.value_source === 'inline'),
      hint: isEdit && existing.value_source === 'inline' ? 'Leave blank to keep the current value.' : 'Stored encrypted at rest and never shown again.' });
    const providerField = field({ label: 'Provider', name: 'provider_id', kind: 'select', required: true, value: existing?.provider_id || '',
      options: [{ value: '', label: providerList.length ? 'Choose a provider…' : 'No providers yet' }, ...providerList.map((p) => ({ value: p.id, label: providerLabel(p) }))] });
    const pathField = field({ label: 'Remote path', name: 'remote_path', required: true, value: existing?.remote_path || '', autocomplete: 'off', hint: remotePathHint('vault') });
    providerField.control.addEventListener('change', () => {
      const chosen = providers.get(providerField.control.value);
      pathField.querySelector('.hint').textContent = remotePathHint(chosen ? chosen.type : 'vault');
    });
    const inlineSection = h('div', { class: 'subfields' }, valueField);
    const remoteSection = h('div', { class: 'subfields' },
      providerList.length ? null : alertBox(h('span', null, 'Add a ', h('a', { href: `/organizations/${org}/secret-providers`, onclick: () => handle.close() }, 'secret provider'), ' first.'), 'info'),
      providerField, pathField);
    const setMode = (next) => {
      mode = next;
      inlineSection.hidden = mode !== 'inline';
      remoteSection.hidden = mode !== 'remote';
    };
    setMode(mode);
    const handle = formDialog({
      title: isEdit ? `Edit ${existing.name}` : 'New secret',
      fields: [
        field({ label: 'Name', name: 'name', required: true, value: existing?.name, autocomplete: 'off' }),
        choiceGroup({ legend: 'Value storage', name: 'value_storage', value: mode, onchange: setMode, choices: [
          { value: 'inline', label: 'Inline', description: 'Stored in agyn, encrypted at rest.' },
          { value: 'remote', label: 'Remote provider', description: 'Read from the provider at each workload start.' },
        ] }),
        inlineSection, remoteSection,
        field({ label: 'Description', name: 'description', kind: 'textarea', optional: true, value: existing?.description || '' }),
      ],
      onsubmit: async (form) => {
        const payload = {};
        const name = formValue(form, 'name').trim();
        const description = formValue(form, 'description').trim();
        const source = {};
        if (mode === 'inline') {
          const value = formValue(form, 'value');
          if (value) source.value = value;
        } else {
          source.provider_id = formValue(form, 'provider_id');
          source.remote_path = formValue(form, 'remote_path').trim();
        }
        if (!isEdit) {
          Object.assign(payload, { name, ...source });
          if (description) payload.description = description;
          await api.post(api.orgPath(org, '/secrets'), payload);
          toast(`Secret “${name}” created.`);
        } else {
          if (name !== existing.name) payload.name = name;
          if (description !== (existing.description || '')) payload.description = description;
          const changed = mode !== existing.value_source || (mode === 'inline' && source.value)
            || (mode === 'remote' && (source.provider_id !== existing.provider_id || source.remote_path !== existing.remote_path));
          if (changed) Object.assign(payload, source);
          if (!Object.keys(payload).length) return;
          await api.patch(api.orgPath(org, `/secrets/${existing.id}`), payload);
          toast(`Secret “${name}” saved.`);
        }
        await reload();
      },
    });
  }

  function openDelete(s) {
    const message = h('div', null, h('p', null, `Delete secret “${s.name}”? Its value is removed from agyn.`));
    confirmDialog({
      title: 'Delete secret',
      message,
      onconfirm: async () => {
        try {
          await api.del(api.orgPath(org, `/secrets/${s.id}`));
        } catch (error) {
          if (error.status === 409 && error.referrers) {
            replaceChildren(message, h('p', null, `“${s.name}” is the password of:`),
              h('ul', { class: 'referrers' }, error.referrers.map((r) => h('li', null,
                h('a', { href: `/organizations/${org}/image-pull-secrets?q=${encodeURIComponent(r.name)}` }, `Image pull secret ${r.name}`)))),
              h('p', { class: 'muted' }, 'Give those image pull secrets another password source first.'));
            error.message = 'This secret is still in use.';
          }
          throw error;
        }
        toast(`Secret “${s.name}” deleted.`);
        await reload();
      },
    });
  }

  await fetchAll();
  render();
  return h('div', { class: 'page' },
    h('header', { class: 'page-header' },
      h('div', null,
        h('h1', { class: 'page-title' }, 'Secrets'),
        h('p', { class: 'page-description' }, 'Named values that image pull secrets can use as their password, stored inline or at a secret provider.')),
      h('div', { class: 'page-actions' }, ctx.canWrite ? button('New secret', () => openForm(null), { kind: 'primary' }) : null)),
    body);
}
