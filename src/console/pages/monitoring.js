// monitoring.js — /organizations/<org>/monitoring: every workload with its status, failure
// reason and message, and per container its status, reason, message and the image pull secret
// used. The event stream keeps it current; nothing reloads.
import * as api from '../lib/api.js';
import * as events from '../lib/events.js';
import { h, emptyState, replaceChildren } from '../lib/dom.js';
import { load } from '../lib/model.js';
import { liveWorkloads } from '../lib/workloads.js';

const STATUSES = ['starting', 'running', 'failed', 'stopping', 'stopped'];

export default async function monitoringPage(ctx) {
  const { org } = ctx;
  ctx.setTitle('Monitoring');
  // Subscribed before the list is fetched: nothing that happens meanwhile is missed.
  const agentsById = new Map();
  let workloads = [];
  let agents = [];
  const view = liveWorkloads(ctx, {
    agents: agentsById,
    filter: () => true,
    empty: () => (workloads.length || statusSelect.value || agentSelect.value
      ? emptyState({ title: 'No workloads match these filters', body: 'Change the status or agent filter to see more.' })
      : emptyState({
        title: 'No workloads yet',
        body: agents.length ? 'Open an agent and click “Start workload”. Its progress — image pulls, the credential used, failures — shows up here live.' : 'Create an agent, attach the image pull secrets its images need, then start a workload from the agent page.',
        actions: [h('a', { href: `/organizations/${org}/agents`, class: 'btn btn-primary' }, agents.length ? 'Go to Agents' : 'Create an agent')],
      })),
  });
  [workloads, agents] = await Promise.all([load.workloads(org), load.agents(org)]);
  for (const agent of agents) agentsById.set(agent.id, agent);

  const statusSelect = h('select', { id: 'filter-status', name: 'status' },
    h('option', { value: '' }, 'All statuses'), STATUSES.map((s) => h('option', { value: s }, s[0].toUpperCase() + s.slice(1))));
  const agentSelect = h('select', { id: 'filter-agent', name: 'agent' },
    h('option', { value: '' }, 'All agents'), agents.map((a) => h('option', { value: a.id }, a.name)));
  const initialStatus = ctx.query.get('status');
  if (STATUSES.includes(initialStatus)) statusSelect.value = initialStatus;

  const filter = () => {
    const status = statusSelect.value;
    const agent = agentSelect.value;
    return (w) => (!status || w.status === status) && (!agent || w.agent_id === agent);
  };

  view.setFilter(filter());
  view.load(workloads);
  for (const select of [statusSelect, agentSelect]) select.addEventListener('change', () => view.setFilter(filter()));
  // A workload of an agent created after this page loaded: learn its name, then redraw.
  ctx.onCleanup(events.on('workload.created', async (workload) => {
    if (!workload || agentsById.has(workload.agent_id)) return;
    try {
      const agent = await api.get(api.orgPath(org, `/agents/${workload.agent_id}`));
      agentsById.set(agent.id, agent);
      agentSelect.appendChild(h('option', { value: agent.id }, agent.name));
      view.redraw(workload.id);
    } catch {
      /* deleted meanwhile: the card keeps its generic title */
    }
  }));

  const liveText = h('span', { class: 'live-text' });
  const liveIndicator = h('p', { class: 'live', role: 'status' }, h('span', { class: 'live-dot', 'aria-hidden': 'true' }), liveText);
  ctx.onCleanup(events.onState((state) => {
    liveIndicator.dataset.state = state;
    replaceChildren(liveText, state === 'live' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Offline — refresh to reconnect');
  }));

  return h('div', { class: 'page' },
    h('header', { class: 'page-header' },
      h('div', null,
        h('h1', { class: 'page-title' }, 'Monitoring'),
        h('p', { class: 'page-description' }, 'Workloads and their containers: pull progress, the image pull secret each container used, and why a start failed. Updated live.')),
      h('div', { class: 'page-actions' }, liveIndicator)),
    h('div', { class: 'toolbar filters' },
      h('div', { class: 'filter' }, h('label', { for: 'filter-status', class: 'label-inline' }, 'Status'), statusSelect),
      h('div', { class: 'filter' }, h('label', { for: 'filter-agent', class: 'label-inline' }, 'Agent'), agentSelect)),
    view.node);
}
