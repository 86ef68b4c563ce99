// agents.js — /organizations/<org>/agents: every agent with its image, parts and attached
// image pull secrets; "New agent".
import { h, button, emptyState, table, timeAgo, code, plural } from '../lib/dom.js';
import { load } from '../lib/model.js';
import { agentForm } from '../lib/forms.js';

export default async function agentsPage(ctx) {
  const { org } = ctx;
  ctx.setTitle('Agents');
  const [agents, mcps, hooks, attachments] = await Promise.all([
    load.agents(org), load.mcps(org), load.hooks(org), load.attachments(org),
  ]);
  const countBy = (items, key) => items.reduce((m, i) => m.set(i[key], (m.get(i[key]) || 0) + 1), new Map());
  const mcpCount = countBy(mcps, 'agent_id');
  const hookCount = countBy(hooks, 'agent_id');
  const secretCount = countBy(attachments.filter((a) => a.agent_id), 'agent_id');
  const create = () => agentForm(ctx, null, (agent) => ctx.navigate(`/organizations/${org}/agents/${agent.id}`));

  const body = agents.length
    ? table({
      caption: 'Agents',
      columns: [{ label: 'Name' }, { label: 'Image' }, { label: 'MCP servers' }, { label: 'Hooks' }, { label: 'Image pull secrets' }, { label: 'Created', className: 'col-time' }],
      rows: agents.map((agent) => ({
        attrs: { dataset: { id: agent.id } },
        cells: [
          h('div', null, h('a', { href: `/organizations/${org}/agents/${agent.id}`, class: 'cell-title' }, agent.name),
            agent.description ? h('div', { class: 'muted small' }, agent.description) : null),
          code(agent.image),
          String(mcpCount.get(agent.id) || 0),
          String(hookCount.get(agent.id) || 0),
          secretCount.get(agent.id) ? plural(secretCount.get(agent.id), 'attached', 'attached') : h('span', { class: 'muted' }, 'None'),
          timeAgo(agent.created_at),
        ],
      })),
    })
    : emptyState({
      title: 'No agents yet',
      body: 'Create an agent with the image it runs. Then attach the image pull secrets it needs and start a workload.',
      actions: ctx.canWrite ? [button('New agent', create, { kind: 'primary' })] : [],
    });

  return h('div', { class: 'page' },
    h('header', { class: 'page-header' },
      h('div', null,
        h('h1', { class: 'page-title' }, 'Agents'),
        h('p', { class: 'page-description' }, 'Each agent runs as a workload: its image is the main container, with its MCP servers and hooks beside it.')),
      h('div', { class: 'page-actions' }, ctx.canWrite ? button('New agent', create, { kind: 'primary' }) : null)),
    h('div', { class: 'panel' }, body));
}
