// tokens.js — /organizations/<org>/tokens: the organization's API tokens (owners only): list
// (never their values), create with the token shown once, and revoke.
import * as api from '../lib/api.js';
import {
  h, button, toast, emptyState, table, timeAgo, field, formDialog, formValue, confirmDialog, replaceChildren, alertBox,
  openDialog, badge,
} from '../lib/dom.js';

async function listTokens(org) {
  const items = [];
  let pageToken;
  for (let page = 0; page < 100; page++) {
    const data = await api.get(api.orgPath(org, '/tokens'), { query: { page_size: 100, page_token: pageToken } });
    items.push(...(data.items || []));
    pageToken = data.next_page_token;
    if (!pageToken) break;
  }
  return items;
}

export default async function tokensPage(ctx) {
  const { org } = ctx;
  ctx.setTitle('API tokens');
  const body = h('div', { class: 'panel' });
  let tokens = [];

  function render() {
    if (!tokens.length) {
      replaceChildren(body, emptyState({
        title: 'No API tokens',
        body: 'API tokens let the CLI, Terraform and CI use this organization.',
        actions: ctx.canWrite ? [button('New token', openCreate, { kind: 'primary' })] : [],
      }));
      return;
    }
    replaceChildren(body, table({
      caption: 'API tokens',
      columns: [{ label: 'Name' }, { label: 'Role' }, { label: 'Prefix' }, { label: 'Created', className: 'col-time' }, { label: 'Actions', className: 'col-actions' }],
      rows: tokens.map((t) => ({
        attrs: { dataset: { id: t.id, name: t.name } },
        cells: [
          h('div', { class: 'cell-title' }, t.name, t.id === ctx.session.tokenId ? h('span', { class: 'muted small' }, ' (this session)') : null),
          badge(t.role, 'neutral'),
          h('code', null, `${t.token_prefix || ''}…`),
          timeAgo(t.created_at),
          ctx.canWrite ? h('div', { class: 'row-actions' },
            button('Revoke', () => openRevoke(t), { size: 'sm', kind: 'danger-ghost', 'aria-label': `Revoke ${t.name}` })) : null,
        ],
      })),
    }));
  }

  async function reload() {
    tokens = await listTokens(org);
    if (ctx.isCurrent()) render();
  }

  function showOnce(created) {
    const value = h('input', { type: 'text', readonly: true, value: created.token, class: 'token-once', 'aria-label': 'The new API token' });
    const copy = button('Copy', async () => {
      try {
        await navigator.clipboard.writeText(created.token);
        toast('Token copied.');
      } catch {
        value.select();
      }
    }, { size: 'sm' });
    const close = h('button', { type: 'button', class: 'btn btn-primary' }, 'Done');
    const handle = openDialog({
      title: `Token “${created.name}” created`,
      content: [
        alertBox('Copy it now: agyn stores only its hash, and it is not shown again.', 'warning'),
        h('div', { class: 'token-once-row' }, value, copy),
        h('div', { class: 'form-actions' }, close),
      ],
    });
    close.addEventListener('click', handle.close);
    value.focus();
    value.select();
  }

  function openCreate() {
    formDialog({
      title: 'New API token',
      submitLabel: 'Create token',
      fields: [
        field({ label: 'Name', name: 'name', required: true, autocomplete: 'off', hint: 'A label, e.g. ci or terraform.' }),
        field({ label: 'Role', name: 'role', kind: 'select', value: 'member', options: [
          { value: 'member', label: 'member — read, attach, start workloads' },
          { value: 'owner', label: 'owner — everything in the organization' },
        ] }),
      ],
      onsubmit: async (form) => {
        const created = await api.post(api.orgPath(org, '/tokens'), {
          name: formValue(form, 'name').trim(), role: formValue(form, 'role'),
        });
        await reload();
        setTimeout(() => showOnce(created), 0);
      },
    });
  }

  function openRevoke(t) {
    const own = t.id === ctx.session.tokenId;
    confirmDialog({
      title: 'Revoke API token',
      message: own
        ? `Revoke “${t.name}”? It is the token of this session: you are signed out.`
        : `Revoke “${t.name}”? Whatever uses it (CLI, Terraform, CI) gets 401 from now on.`,
      confirmLabel: 'Revoke',
      onconfirm: async () => {
        await api.del(api.orgPath(org, `/tokens/${t.id}`));
        toast(`Token “${t.name}” revoked.`);
        if (!own) await reload();
      },
    });
  }

  await reload();
  return h('div', { class: 'page' },
    h('header', { class: 'page-header' },
      h('div', null,
        h('h1', { class: 'page-title' }, 'API tokens'),
        h('p', { class: 'page-description' }, 'Tokens for the CLI (AGYN_TOKEN), Terraform and CI. Their values are shown once, at creation.')),
      h('div', { class: 'page-actions' }, ctx.canWrite ? button('New token', openCreate, { kind: 'primary' }) : null)),
    body);
}
