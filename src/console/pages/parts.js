// parts.js — /organizations/<org>/mcps and /hooks: every MCP server (or hook) of the
// organization with its agent; "New MCP server" / "New hook".
import { h, button, emptyState, table, timeAgo, code, plural } from '../lib/dom.js';
import { load, byId, KIND } from '../lib/model.js';
import { partForm } from '../lib/forms.js';

export default async function partsPage(ctx) {
  const { org } = ctx;
  const kind = ctx.route.kind;
  const meta = KIND[kind];
  const heading = kind === 'mcp' ? 'MCP servers' : 'Hooks';
  ctx.setTitle(heading);
  const [items, agents, attachments] = await Promise.all([
    kind === 'mcp' ? load.mcps(org) : load.hooks(org), load.agents(org), load.attachments(org),
  ]);
  const agentsById = byId(agents);
  const attachedCount = attachments.reduce((m, a) => (a[meta.column] ? m.set(a[meta.column], (m.get(a[meta.column]) || 0) + 1) : m), new Map());
  const create = () => partForm(ctx, kind, { agents, onsaved: (saved) => ctx.navigate(`/organizations/${org}/${meta.path}/${saved.id}`) });

  let body;
  if (items.length) {
    body = table({
      caption: heading,
      columns: [{ label: kind === 'mcp' ? 'Name' : 'Event' }, { label: 'Agent' }, { label: 'Image' }, { label: 'Image pull secrets' }, { label: 'Created', className: 'col-time' }],
      rows: items.map((item) => {
        const agent = agentsById.get(item.agent_id);
        return {
          attrs: { dataset: { id: item.id } },
          cells: [
            h('div', null, h('a', { href: `/organizations/${org}/${meta.path}/${item.id}`, class: 'cell-title' }, item[meta.label]),
              item.description ? h('div', { class: 'muted small' }, item.description) : null),
            agent ? h('a', { href: `/organizations/${org}/agents/${agent.id}` }, agent.name) : h('span', { class: 'muted' }, '—'),
            code(item.image),
            attachedCount.get(item.id) ? plural(attachedCount.get(item.id), 'attached', 'attached') : h('span', { class: 'muted' }, 'None'),
            timeAgo(item.created_at),
          ],
        };
      }),
    });
  } else if (!agents.length) {
    body = emptyState({
      title: kind === 'mcp' ? 'No MCP servers yet' : 'No hooks yet',
      body: `${kind === 'mcp' ? 'MCP servers' : 'Hooks'} belong to an agent. Create an agent first.`,
      actions: [h('a', { href: `/organizations/${org}/agents`, class: 'btn btn-primary' }, 'Go to Agents')],
    });
  } else {
    body = emptyState({
      title: kind === 'mcp' ? 'No MCP servers yet' : 'No hooks yet',
      body: kind === 'mcp'
        ? 'An MCP server runs beside its agent in every workload, from its own image — which may need its own image pull secret.'
        : 'A hook runs beside its agent and reacts to an event, from its own image — which may need its own image pull secret.',
      actions: ctx.canWrite ? [button(`New ${meta.noun}`, create, { kind: 'primary' })] : [],
    });
  }

  return h('div', { class: 'page' },
    h('header', { class: 'page-header' },
      h('div', null,
        h('h1', { class: 'page-title' }, heading),
        h('p', { class: 'page-description' }, kind === 'mcp'
          ? 'Tool servers that run beside an agent. Each pulls its own image with the image pull secrets attached to it.'
          : 'Event handlers that run beside an agent. Each pulls its own image with the image pull secrets attached to it.')),
      h('div', { class: 'page-actions' }, ctx.canWrite && agents.length ? button(`New ${meta.noun}`, create, { kind: 'primary' }) : null)),
    h('div', { class: 'panel' }, body));
}
