// image-pull-secrets.js — /organizations/<org>/image-pull-secrets: the list with search, the
// "New image pull secret" form (Name, Registry, Username, Password storage: Inline, Remote
// provider, Secret or Amazon ECR), Edit (rotating the password in place), Delete (what it is attached to
// first) and Test login. Kept current from the event stream.
import * as api from '../lib/api.js';
import * as events from '../lib/events.js';
import {
  h, field, choiceGroup, formDialog, confirmDialog, emptyState, timeAgo, code,
  button, busy, toast, plural, alertBox, replaceChildren, formValue,
} from '../lib/dom.js';
import { load, byId, storageCell, targetLink, providerLabel, remotePathHint } from '../lib/model.js';

const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

const COLUMNS = [
  { label: 'Name', className: 'col-name' },
  { label: 'Registry', className: 'col-registry' },
  { label: 'Username' },
  { label: 'Password storage', className: 'col-storage' },
  { label: 'Attached to', className: 'col-attached' },
  { label: 'Updated', className: 'col-time' },
  { label: 'Actions', className: 'col-actions' },
];

export default async function imagePullSecretsPage(ctx) {
  const { org } = ctx;
  ctx.setTitle('Image Pull Secrets');
  const state = {
    items: [], providers: new Map(), secrets: new Map(), attachments: new Map(),
    targets: { agent: new Map(), mcp: new Map(), hook: new Map() },
    search: ctx.query.get('q') || '', verify: new Map(),
  };

  async function fetchAll() {
    const [items, providers, secrets, attachments, agents, mcps, hooks] = await Promise.all([
      load.imagePullSecrets(org), load.providers(org), load.secrets(org), load.attachments(org),
      load.agents(org), load.mcps(org), load.hooks(org),
    ]);
    items.sort((a, b) => collator.compare(a.name, b.name));
    state.items = items;
    state.providers = byId(providers);
    state.secrets = byId(secrets);
    state.targets = { agent: byId(agents), mcp: byId(mcps), hook: byId(hooks) };
    state.attachments = new Map();
    for (const attachment of attachments) {
      const list = state.attachments.get(attachment.image_pull_secret_id) || [];
      list.push(attachment);
      state.attachments.set(attachment.image_pull_secret_id, list);
    }
  }

  await fetchAll();
  if (!ctx.isCurrent()) return null;

  const newButton = ctx.canWrite ? button('New image pull secret', () => openForm(null), { kind: 'primary' }) : null;
  const searchInput = h('input', { type: 'search', id: 'ips-search', class: 'search-input', placeholder: 'Search by name, registry or username',
    value: state.search, autocomplete: 'off' });
  const count = h('p', { class: 'count muted', 'aria-live': 'polite' });
  const toolbar = h('div', { class: 'toolbar' },
    h('div', { class: 'search' }, h('label', { for: 'ips-search', class: 'sr-only' }, 'Search image pull secrets'), searchInput),
    count);
  const tbody = h('div', { role: 'rowgroup', class: 'grid-body' });
  const tableEl = h('div', { role: 'table', class: 'grid-table table-ips', 'aria-label': 'Image pull secrets', 'aria-rowcount': '0' },
    h('div', { role: 'rowgroup', class: 'grid-head' },
      h('div', { role: 'row', class: 'grid-row' }, COLUMNS.map((c) => h('div', { role: 'columnheader', class: c.className }, c.label)))),
    tbody);
  const body = h('div', { class: 'panel' });

  function attachedCell(item) {
    const list = state.attachments.get(item.id) || [];
    if (!list.length) return h('span', { class: 'muted' }, 'Not attached');
    return h('ul', { class: 'chips' }, list.map((a) => {
      const kind = a.agent_id ? 'agent' : a.mcp_id ? 'mcp' : 'hook';
      const target = state.targets[kind].get(a.agent_id || a.mcp_id || a.hook_id);
      return h('li', null, targetLink(org, kind, target));
    }));
  }

  function showVerify(slot, result) {
    slot.className = `verify-result ${result.ok ? 'ok' : 'failed'}`;
    replaceChildren(slot, h('span', { class: 'verify-icon', 'aria-hidden': 'true' }, result.ok ? '✓' : '!'),
      result.ok ? `Logged in to ${result.registry}` : `Login failed: ${result.message}`);
  }

  // The list may be rebuilt (an event arrived) while the login runs: the result is kept in
  // state and shown in whichever row shows the secret when it arrives.
  async function testLogin(item, btn) {
    const done = busy(btn, 'Testing…');
    let result;
    try {
      result = { ...(await api.post(api.orgPath(org, `/image-pull-secrets/${item.id}/verify`), {})), registry: item.registry };
    } catch (error) {
      result = { ok: false, message: error.message, registry: item.registry };
    }
    done();
    state.verify.set(item.id, result);
    const slot = tbody.querySelector(`[data-id="${CSS.escape(item.id)}"] .verify-result`);
    if (slot) showVerify(slot, result);
  }

  // Rows are cloned from one prototype and filled in; the buttons share one delegated
  // listener on the table body. This keeps a list of 1000 secrets to a single fast build.
  const prototype = h('div', { role: 'row', class: 'grid-row' },
    h('div', { role: 'rowheader', class: 'col-name', dataset: { label: 'Name' } }, h('div', { class: 'cell-title' })),
    h('div', { role: 'cell', class: 'col-registry', dataset: { label: 'Registry' } }),
    h('div', { role: 'cell', dataset: { label: 'Username' } }, h('span', { class: 'mono-ish' })),
    h('div', { role: 'cell', class: 'col-storage', dataset: { label: 'Password storage' } }),
    h('div', { role: 'cell', class: 'col-attached', dataset: { label: 'Attached to' } }),
    h('div', { role: 'cell', class: 'col-time', dataset: { label: 'Updated' } }),
    h('div', { role: 'cell', class: 'col-actions', dataset: { label: 'Actions' } },
      h('div', { class: 'row-actions' },
        h('button', { type: 'button', class: 'btn btn-default btn-sm', dataset: { action: 'verify' } }, 'Test login'),
        ctx.canWrite ? h('button', { type: 'button', class: 'btn btn-default btn-sm', dataset: { action: 'edit' } }, 'Edit') : null,
        ctx.canWrite ? h('button', { type: 'button', class: 'btn btn-danger-ghost btn-sm', dataset: { action: 'delete' } }, 'Delete') : null),
      h('p', { class: 'verify-result', 'aria-live': 'polite' })));
  const byItemId = new Map();

  function row(item) {
    const tr = prototype.cloneNode(true);
    tr.dataset.id = item.id;
    tr.dataset.name = item.name;
    const [nameCell, registryCell, userCell, storage, attached, updated, actions] = tr.children;
    nameCell.firstChild.textContent = item.name;
    if (item.description) nameCell.appendChild(h('div', { class: 'muted small' }, item.description));
    registryCell.replaceChildren(code(item.registry));
    userCell.firstChild.textContent = item.username;
    storage.appendChild(storageCell(item, { providers: state.providers, secrets: state.secrets, org }));
    attached.appendChild(attachedCell(item));
    updated.appendChild(timeAgo(item.updated_at));
    const buttons = actions.firstChild.children;
    buttons[0].setAttribute('aria-label', `Test login for ${item.name}`);
    if (buttons[1]) buttons[1].setAttribute('aria-label', `Edit ${item.name}`);
    if (buttons[2]) buttons[2].setAttribute('aria-label', `Delete ${item.name}`);
    const result = state.verify.get(item.id);
    if (result) showVerify(actions.lastChild, result);
    return tr;
  }

  tbody.addEventListener('click', (event) => {
    const btn = event.target.closest('button[data-action]');
    if (!btn) return;
    const tr = btn.closest('[role="row"]');
    const item = byItemId.get(tr.dataset.id);
    if (!item) return;
    if (btn.dataset.action === 'verify') testLogin(item, btn);
    else if (btn.dataset.action === 'edit') openForm(item);
    else if (btn.dataset.action === 'delete') openDelete(item);
  });

  function matches(item, needle) {
    if (!needle) return true;
    return [item.name, item.registry, item.username, item.description || ''].some((v) => v.toLowerCase().includes(needle));
  }

  function renderList() {
    const needle = state.search.trim().toLowerCase();
    if (!state.items.length) {
      count.textContent = '';
      toolbar.hidden = true;
      replaceChildren(body, emptyState({
        title: 'No image pull secrets yet',
        body: 'An image pull secret holds the credentials for a private registry (GHCR, Docker Hub, ECR…). Create one, then attach it to the agents, MCP servers and hooks whose images live there.',
        actions: ctx.canWrite ? [button('New image pull secret', () => openForm(null), { kind: 'primary' })]
          : [h('p', { class: 'muted' }, 'Ask an organization owner to create one.')],
      }));
      return;
    }
    toolbar.hidden = false;
    const start = performance.now();
    const visible = needle ? state.items.filter((item) => matches(item, needle)) : state.items;
    count.textContent = needle ? `${visible.length} of ${plural(state.items.length, 'image pull secret')}` : plural(state.items.length, 'image pull secret');
    if (!visible.length) {
      replaceChildren(body, emptyState({
        title: `No image pull secrets match “${state.search.trim()}”`,
        body: 'Search looks at the name, registry, username and description.',
        actions: [button('Clear search', () => { searchInput.value = ''; state.search = ''; renderList(); searchInput.focus(); })],
      }));
      return;
    }
    byItemId.clear();
    const fragment = document.createDocumentFragment();
    for (const item of visible) {
      byItemId.set(item.id, item);
      fragment.appendChild(row(item));
    }
    tbody.replaceChildren(fragment);
    tableEl.setAttribute('aria-rowcount', String(visible.length + 1));
    if (tableEl.parentNode !== body) replaceChildren(body, tableEl);
    performance.measure('console:image-pull-secrets:render', { start });
    // After the next frame: the rows are styled, laid out and painted.
    requestAnimationFrame(() => setTimeout(() => performance.measure('console:image-pull-secrets:paint', { start }), 0));
  }

  let searchTimer = null;
  searchInput.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      state.search = searchInput.value;
      renderList();
    }, 80);
  });

  let reloadTimer = null;
  let reloading = false;
  async function reload() {
    if (reloading) {
      reloadTimer = setTimeout(reload, 200);
      return;
    }
    reloading = true;
    try {
      await fetchAll();
      if (ctx.isCurrent()) renderList();
    } catch (error) {
      if (error.status !== 401) toast(`Could not refresh the list: ${error.message}`, 'danger');
    } finally {
      reloading = false;
    }
  }
  const scheduleReload = () => {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(reload, 150);
  };
  ctx.onCleanup(events.on('image_pull_secret.*', scheduleReload));
  ctx.onCleanup(events.on('attachment.*', scheduleReload));
  ctx.onCleanup(() => clearTimeout(reloadTimer));

  /* ---------- create and edit ---------- */

  function openForm(existing) {
    const providers = [...state.providers.values()];
    const secrets = [...state.secrets.values()];
    let mode = existing ? existing.password_source : 'inline';
    const isEdit = Boolean(existing);

    const nameField = field({ label: 'Name', name: 'name', required: true, value: existing?.name,
      hint: 'A display name, unique in this organization.', autocomplete: 'off' });
    const registryField = field({ label: 'Registry', name: 'registry', required: true, value: existing?.registry,
      placeholder: 'ghcr.io', autocomplete: 'off',
      hint: 'Registry hostname, e.g. ghcr.io or 123456789012.dkr.ecr.us-west-2.amazonaws.com (a :port or /path may follow).' });
    const usernameField = field({ label: 'Username', name: 'username', required: true, value: existing?.username, autocomplete: 'off' });
    const passwordField = field({ label: 'Password', name: 'password', type: 'password', autocomplete: 'new-password',
      required: !(isEdit && existing.password_source === 'inline'),
      hint: isEdit && existing.password_source === 'inline'
        ? 'Leave blank to keep the current password, or enter a new one to rotate it in place. New workloads use it at once.'
        : 'Stored encrypted at rest and never shown again.' });
    const inlineSection = h('div', { class: 'subfields', dataset: { mode: 'inline' } }, passwordField);

    const providerField = field({ label: 'Provider', name: 'provider_id', kind: 'select', required: true,
      value: existing?.provider_id || '',
      options: [{ value: '', label: providers.length ? 'Choose a provider…' : 'No providers yet' },
        ...providers.map((p) => ({ value: p.id, label: providerLabel(p) }))] });
    const pathField = field({ label: 'Remote path', name: 'remote_path', required: true, value: existing?.remote_path || '',
      placeholder: 'secret/ci/registry/password', autocomplete: 'off', hint: remotePathHint('vault') });
    const pathHint = pathField.querySelector('.hint');
    const updatePathHint = () => {
      const chosen = state.providers.get(providerField.control.value);
      pathHint.textContent = remotePathHint(chosen ? chosen.type : 'vault');
      pathField.control.placeholder = chosen && chosen.type === 'aws-secrets-manager' ? 'ci/registry#password' : 'secret/ci/registry/password';
    };
    providerField.control.addEventListener('change', updatePathHint);
    updatePathHint();
    const closeOnNavigate = (event) => { if (event.target.closest('a')) dialog.close(); };
    const remoteSection = h('div', { class: 'subfields', dataset: { mode: 'remote' } },
      providers.length ? null : alertBox(h('span', null, 'Remote passwords come from a secret provider. ',
        h('a', { href: `/organizations/${org}/secret-providers`, onclick: closeOnNavigate }, 'Add a secret provider'), ' first.'), 'info'),
      providerField, pathField);
    const secretField = field({ label: 'Secret', name: 'password_secret_id', kind: 'select', required: true,
      value: existing?.password_secret_id || '',
      options: [{ value: '', label: secrets.length ? 'Choose a secret…' : 'No secrets yet' },
        ...secrets.map((s) => ({ value: s.id, label: s.name }))],
      hint: 'The password is read from this Secret at each workload start.' });
    const secretSection = h('div', { class: 'subfields', dataset: { mode: 'secret' } },
      secrets.length ? null : alertBox(h('span', null, 'No Secrets exist yet. ',
        h('a', { href: `/organizations/${org}/secrets`, onclick: closeOnNavigate }, 'Create a Secret'), ' first.'), 'info'),
      secretField);

    // Amazon ECR: a token from GetAuthorizationToken through an AWS provider at each start; the
    // username ("AWS") comes with it, so the Username field is hidden.
    const awsProviders = providers.filter((p) => p.type === 'aws-secrets-manager');
    const ecrProviderField = field({ label: 'AWS provider', name: 'ecr_provider_id', kind: 'select', required: true,
      value: existing?.password_source === 'ecr' ? existing.provider_id : '',
      options: [{ value: '', label: awsProviders.length ? 'Choose an AWS provider…' : 'No AWS providers yet' },
        ...awsProviders.map((p) => ({ value: p.id, label: providerLabel(p) }))],
      hint: 'agyn calls ECR GetAuthorizationToken with this provider’s credentials (and role, if set) at workload start; the token is kept encrypted in memory until 10 minutes before it expires.' });
    const ecrSection = h('div', { class: 'subfields', dataset: { mode: 'ecr' } },
      awsProviders.length ? null : alertBox(h('span', null, 'ECR tokens come from an AWS secret provider. ',
        h('a', { href: `/organizations/${org}/secret-providers`, onclick: closeOnNavigate }, 'Add an AWS provider'), ' first.'), 'info'),
      ecrProviderField);
    const shortLived = (m) => m === 'ecr' || m === 'plugin';

    // agyn sends a stored password only to the registry it was given for: once the registry
    // changes, the password (or its Secret / provider reference, sent again) is required.
    const passwordHint = passwordField.querySelector('.hint');
    const keepHint = passwordHint.textContent;
    const registryChanged = () => isEdit && registryField.control.value.trim() !== existing.registry;
    const setMode = (next) => {
      mode = next;
      inlineSection.hidden = mode !== 'inline';
      remoteSection.hidden = mode !== 'remote';
      secretSection.hidden = mode !== 'secret';
      ecrSection.hidden = mode !== 'ecr';
      usernameField.hidden = shortLived(mode);
      usernameField.control.required = !shortLived(mode);
      const moved = registryChanged();
      passwordField.control.required = !(isEdit && existing.password_source === 'inline') || moved;
      passwordHint.textContent = moved && mode === 'inline'
        ? 'The registry changed: enter the password again. agyn sends a stored password only to the registry it was saved for.'
        : keepHint;
    };
    registryField.control.addEventListener('input', () => setMode(mode));
    const storage = choiceGroup({
      legend: 'Password storage', name: 'password_storage', value: mode, onchange: setMode,
      choices: [
        { value: 'inline', label: 'Inline', description: 'Encrypted at rest in agyn.' },
        { value: 'remote', label: 'Remote provider', description: 'Vault or AWS, read at start.' },
        { value: 'secret', label: 'Secret', description: 'An existing Secret’s value.' },
        { value: 'ecr', label: 'Amazon ECR', description: 'A 12-hour ECR token, fetched at start.' },
      ],
    });
    const descriptionField = field({ label: 'Description', name: 'description', kind: 'textarea', optional: true, value: existing?.description || '' });
    setMode(mode);

    const { dialog } = formDialog({
      title: isEdit ? `Edit ${existing.name}` : 'New image pull secret',
      description: isEdit ? 'Changes apply to the next image pull; pulls already running keep the old credentials.' : 'Credentials the runner uses to pull images from a private registry.',
      fields: [nameField, registryField, usernameField, storage, inlineSection, remoteSection, secretSection, ecrSection, descriptionField],
      submitLabel: 'Save',
      onsubmit: async (form) => {
        const values = {
          name: formValue(form, 'name').trim(),
          registry: formValue(form, 'registry').trim(),
          username: formValue(form, 'username').trim(),
          description: formValue(form, 'description').trim(),
        };
        const source = {};
        if (mode === 'inline') {
          const password = formValue(form, 'password');
          if (password) source.password = password;
        } else if (mode === 'remote') {
          source.provider_id = formValue(form, 'provider_id');
          source.remote_path = formValue(form, 'remote_path').trim();
        } else if (mode === 'ecr') {
          source.password_source = 'ecr';
          source.provider_id = formValue(form, 'ecr_provider_id');
        } else if (mode === 'secret') {
          source.password_secret_id = formValue(form, 'password_secret_id');
        }
        if (!isEdit) {
          const body = { name: values.name, registry: values.registry, ...source };
          if (!shortLived(mode)) body.username = values.username;
          if (values.description) body.description = values.description;
          const created = await api.post(api.orgPath(org, '/image-pull-secrets'), body);
          toast(`Image pull secret “${created.name}” created.`);
        } else {
          const body = {};
          for (const key of ['name', 'registry', 'username', 'description']) {
            if (key === 'username' && shortLived(mode)) continue;
            if (values[key] !== (existing[key] || '')) body[key] = values[key];
          }
          const sourceChanged = mode !== existing.password_source
            || (mode === 'inline' && source.password)
            || (mode === 'remote' && (source.provider_id !== existing.provider_id || source.remote_path !== existing.remote_path))
            || (mode === 'secret' && source.password_secret_id !== existing.password_secret_id)
            || (mode === 'ecr' && source.provider_id !== existing.provider_id);
          if (sourceChanged || 'registry' in body) Object.assign(body, source);
          if (!Object.keys(body).length) {
            toast('Nothing changed.', 'info');
            return;
          }
          const updated = await api.patch(api.orgPath(org, `/image-pull-secrets/${existing.id}`), body);
          state.verify.delete(existing.id);
          toast(source.password ? `Password of “${updated.name}” rotated.` : `Image pull secret “${updated.name}” saved.`);
        }
        await reload();
      },
    });
  }

  /* ---------- delete ---------- */

  async function openDelete(item) {
    let attachments = [];
    try {
      attachments = await load.attachments(org, { image_pull_secret_id: item.id });
    } catch (error) {
      toast(error.message, 'danger');
      return;
    }
    const describe = (list) => h('ul', { class: 'referrers' }, list.map((a) => {
      const kind = a.target_kind || (a.agent_id ? 'agent' : a.mcp_id ? 'mcp' : 'hook');
      const id = a.target_id || a.agent_id || a.mcp_id || a.hook_id;
      const target = state.targets[kind] && state.targets[kind].get(id);
      return h('li', null, targetLink(org, kind, target || (a.target_name ? { id, name: a.target_name, event: a.target_name } : null)));
    }));
    let detach = attachments.length > 0;
    const message = h('div', { class: 'stack' });
    const setMessage = (list) => {
      replaceChildren(message,
        list.length
          ? [h('p', null, `“${item.name}” is attached to ${plural(list.length, 'resource')}:`), describe(list),
            h('p', { class: 'muted' }, 'Deleting it detaches it from all of them. Their next workloads pull without these credentials.')]
          : [h('p', null, `Delete “${item.name}”? This permanently removes the registry credentials.`)]);
    };
    setMessage(attachments);
    const handle = confirmDialog({
      title: 'Delete image pull secret',
      message,
      confirmLabel: detach ? 'Detach and delete' : 'Delete',
      onconfirm: async (_dialog, { confirmButton }) => {
        try {
          await api.del(api.orgPath(org, `/image-pull-secrets/${item.id}`), { query: detach ? { detach: 'true' } : undefined });
        } catch (error) {
          if (error.status === 409 && error.referrers) {
            detach = true;
            setMessage(error.referrers);
            confirmButton.textContent = 'Detach and delete';
            error.message = 'It was attached elsewhere in the meantime. Review the list and confirm again.';
          }
          throw error;
        }
        toast(`Image pull secret “${item.name}” deleted.`);
        await reload();
      },
    });
    return handle;
  }

  renderList();
  const page = h('div', { class: 'page' },
    h('header', { class: 'page-header' },
      h('div', null,
        h('h1', { class: 'page-title' }, 'Image Pull Secrets'),
        h('p', { class: 'page-description' }, 'Credentials for private container registries. The runner uses the ones attached to an agent, MCP server or hook when it pulls that image.')),
      h('div', { class: 'page-actions' }, newButton)),
    toolbar,
    body);
  if (ctx.query.get('new') === '1' && ctx.canWrite) setTimeout(() => openForm(null), 0);
  return page;
}
