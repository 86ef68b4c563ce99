// part.js — /organizations/<org>/mcps/<id> and /hooks/<id>: an MCP server or hook with its
// "Image pull secrets" tab (the same as an agent's) and its details.
import * as api from '../lib/api.js';
import { h, button, tabs, code, timeAgo, confirmDialog, toast } from '../lib/dom.js';
import { KIND } from '../lib/model.js';
import { attachmentsPanel } from '../lib/attachments.js';
import { partForm, runRows } from '../lib/forms.js';

export default async function partPage(ctx) {
  const { org } = ctx;
  const kind = ctx.route.kind;
  const meta = KIND[kind];
  const item = await api.get(api.orgPath(org, `/${meta.path}/${ctx.params.id}`));
  let agent = null;
  try {
    agent = await api.get(api.orgPath(org, `/agents/${item.agent_id}`));
  } catch {
    agent = null;
  }
  const label = item[meta.label];
  ctx.setTitle(label);
  const base = `/organizations/${org}/${meta.path}/${item.id}`;
  const listTitle = kind === 'mcp' ? 'MCP servers' : 'Hooks';

  const edit = () => partForm(ctx, kind, { existing: item, onsaved: () => ctx.navigate(location.pathname, { replace: true }) });
  const remove = () => confirmDialog({
    title: `Delete ${meta.noun}`,
    message: `Delete ${meta.noun} “${label}”? Its image pull secret attachments are deleted with it; the secrets stay.`,
    confirmLabel: `Delete ${meta.noun}`,
    onconfirm: async () => {
      await api.del(api.orgPath(org, `/${meta.path}/${item.id}`));
      toast(`${meta.title} “${label}” deleted.`);
      ctx.navigate(`/organizations/${org}/${meta.path}`);
    },
  });

  const details = (panel) => {
    const rows = [
      [kind === 'mcp' ? 'Name' : 'Event', label],
      ['Agent', agent ? h('a', { href: `/organizations/${org}/agents/${agent.id}` }, agent.name) : item.agent_id],
      ['Image', code(item.image)],
      ['Description', item.description || h('span', { class: 'muted' }, 'None')],
      ...runRows(item),
      ['Created', timeAgo(item.created_at)],
      ['Updated', timeAgo(item.updated_at)],
      ['ID', code(item.id)],
    ];
    panel.appendChild(h('section', { class: 'section' },
      h('h2', { class: 'section-title' }, 'Details'),
      h('div', { class: 'panel panel-padded' }, h('dl', { class: 'details' }, rows.map(([k, v]) => [h('dt', null, k), h('dd', null, v)])))));
  };

  const tabset = tabs({
    label: `${meta.title} ${label} sections`,
    selected: ctx.params.tab === 'details' ? 'details' : 'image-pull-secrets',
    items: [
      { id: 'image-pull-secrets', label: 'Image pull secrets', render: (panel) => panel.appendChild(attachmentsPanel({ ctx, kind, target: item })) },
      { id: 'details', label: 'Details', render: details },
    ],
    onselect: (id) => history.replaceState(null, '', id === 'image-pull-secrets' ? base : `${base}/${id}`),
  });

  return h('div', { class: 'page' },
    h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' },
      h('a', { href: `/organizations/${org}/${meta.path}` }, listTitle), h('span', { 'aria-hidden': 'true' }, '/'),
      agent ? [h('a', { href: `/organizations/${org}/agents/${agent.id}` }, agent.name), h('span', { 'aria-hidden': 'true' }, '/')] : null,
      h('span', { 'aria-current': 'page' }, label)),
    h('header', { class: 'page-header' },
      h('div', null,
        h('p', { class: 'eyebrow' }, meta.title),
        h('h1', { class: 'page-title' }, label),
        h('p', { class: 'page-meta' }, h('span', { class: 'muted' }, 'Image '), code(item.image),
          agent ? [h('span', { class: 'muted' }, ' · runs with agent '), h('a', { href: `/organizations/${org}/agents/${agent.id}` }, agent.name)] : null)),
      h('div', { class: 'page-actions' },
        ctx.canWrite ? button('Edit', edit) : null,
        ctx.canWrite ? button('Delete', remove, { kind: 'danger-ghost' }) : null)),
    tabset);
}
