// agent.js — /organizations/<org>/agents/<id>[/<tab>]: the agent with "Start workload", and
// tabs for its image pull secrets, MCP servers, hooks and (live) workloads.
import * as api from '../lib/api.js';
import {
  h, button, busy, toast, tabs, table, code, timeAgo, emptyState, confirmDialog, plural, replaceChildren, loading, alertBox,
} from '../lib/dom.js';
import { load } from '../lib/model.js';
import { attachmentsPanel } from '../lib/attachments.js';
import { agentForm, partForm, runRows } from '../lib/forms.js';
import { liveWorkloads } from '../lib/workloads.js';

const TABS = ['image-pull-secrets', 'mcps', 'hooks', 'workloads'];

export default async function agentPage(ctx) {
  const { org } = ctx;
  const agent = await api.get(api.orgPath(org, `/agents/${ctx.params.id}`));
  ctx.setTitle(agent.name);
  const base = `/organizations/${org}/agents/${agent.id}`;
  const tab = TABS.includes(ctx.params.tab) ? ctx.params.tab : 'image-pull-secrets';
  let workloadsView = null;
  let selectTab = null;

  const startButton = button('Start workload', null, { kind: 'primary' });
  startButton.addEventListener('click', async () => {
    const done = busy(startButton, 'Starting…');
    try {
      const workload = await api.post(api.orgPath(org, '/workloads'), { agent_id: agent.id });
      const item = toast(h('span', null, 'Workload started. ', h('a', { href: `/organizations/${org}/monitoring` }, 'Open Monitoring')));
      item.dataset.workloadId = workload.id;
      if (workloadsView) workloadsView.upsert(workload);
      if (selectTab) selectTab('workloads');
    } catch (error) {
      toast(`Could not start a workload: ${error.message}`, 'danger');
    } finally {
      done();
    }
  });

  const edit = () => agentForm(ctx, agent, () => ctx.navigate(location.pathname, { replace: true }));
  const remove = async () => {
    let mcps = [];
    let hooks = [];
    try {
      [mcps, hooks] = await Promise.all([load.mcps(org, { agent_id: agent.id }), load.hooks(org, { agent_id: agent.id })]);
    } catch {
      /* the dialog still works without the counts */
    }
    confirmDialog({
      title: 'Delete agent',
      message: `Delete agent “${agent.name}”? Its ${plural(mcps.length, 'MCP server')}, ${plural(hooks.length, 'hook')} and every image pull secret attachment of all of them are deleted too. The image pull secrets themselves stay.`,
      confirmLabel: 'Delete agent',
      onconfirm: async () => {
        await api.del(api.orgPath(org, `/agents/${agent.id}`));
        toast(`Agent “${agent.name}” deleted.`);
        ctx.navigate(`/organizations/${org}/agents`);
      },
    });
  };

  function partsTab(kind) {
    return (panel) => {
      replaceChildren(panel, loading());
      const meta = kind === 'mcp'
        ? { noun: 'MCP server', nouns: 'MCP servers', path: 'mcps', label: 'name', column: 'Name' }
        : { noun: 'hook', nouns: 'Hooks', path: 'hooks', label: 'event', column: 'Event' };
      const refresh = async () => {
        try {
          const items = await (kind === 'mcp' ? load.mcps : load.hooks)(org, { agent_id: agent.id });
          const create = () => partForm(ctx, kind, { agent, onsaved: (saved) => ctx.navigate(`/organizations/${org}/${meta.path}/${saved.id}`) });
          const content = items.length
            ? table({
              caption: `${meta.nouns} of ${agent.name}`,
              columns: [{ label: meta.column }, { label: 'Image' }, { label: 'Created', className: 'col-time' }],
              rows: items.map((item) => [
                h('a', { href: `/organizations/${org}/${meta.path}/${item.id}`, class: 'cell-title' }, item[meta.label]),
                code(item.image),
                timeAgo(item.created_at),
              ]),
            })
            : emptyState({
              title: kind === 'mcp' ? 'No MCP servers' : 'No hooks',
              body: kind === 'mcp'
                ? 'MCP servers run beside the agent in its workloads, each from its own image.'
                : 'Hooks run beside the agent and react to its events, each from its own image.',
              actions: ctx.canWrite ? [button(`New ${meta.noun}`, create, { kind: 'primary' })] : [],
            });
          replaceChildren(panel, h('section', { class: 'section' },
            h('div', { class: 'section-header' },
              h('div', null, h('h2', { class: 'section-title' }, kind === 'mcp' ? 'MCP servers' : 'Hooks'),
                h('p', { class: 'section-description' }, 'Open one to attach the image pull secrets its own image needs.')),
              ctx.canWrite && items.length ? button(`New ${meta.noun}`, create) : null),
            h('div', { class: 'panel' }, content)));
        } catch (error) {
          replaceChildren(panel, alertBox(error.message));
        }
      };
      refresh();
    };
  }

  function workloadsTab(panel) {
    workloadsView = liveWorkloads(ctx, {
      agents: new Map([[agent.id, agent]]),
      filter: (w) => w.agent_id === agent.id,
      empty: () => emptyState({ title: 'No workloads yet', body: 'Start a workload to pull the images of this agent, its MCP servers and its hooks with their attached image pull secrets.' }),
    });
    replaceChildren(panel, h('section', { class: 'section' },
      h('div', { class: 'section-header' },
        h('div', null, h('h2', { class: 'section-title' }, 'Workloads'),
          h('p', { class: 'section-description' }, 'Updated live. ', h('a', { href: `/organizations/${org}/monitoring` }, 'See every workload in Monitoring.')))),
      workloadsView.node));
    workloadsView.node.lastChild.appendChild(loading());
    load.workloads(org, { agent_id: agent.id }).then((initial) => {
      if (ctx.isCurrent()) workloadsView.load(initial);
    }, (error) => replaceChildren(panel, alertBox(error.message)));
  }

  const tabset = tabs({
    label: `${agent.name} sections`,
    selected: tab,
    items: [
      { id: 'image-pull-secrets', label: 'Image pull secrets', render: (panel) => panel.appendChild(attachmentsPanel({ ctx, kind: 'agent', target: agent })) },
      { id: 'mcps', label: 'MCP servers', render: partsTab('mcp') },
      { id: 'hooks', label: 'Hooks', render: partsTab('hook') },
      { id: 'workloads', label: 'Workloads', render: workloadsTab },
    ],
    onselect: (id) => history.replaceState(null, '', id === 'image-pull-secrets' ? base : `${base}/${id}`),
  });
  selectTab = (id) => {
    const btn = tabset.querySelector(`[role=tab][data-tab="${id}"]`);
    if (btn && btn.getAttribute('aria-selected') !== 'true') btn.click();
  };

  return h('div', { class: 'page' },
    h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' },
      h('a', { href: `/organizations/${org}/agents` }, 'Agents'), h('span', { 'aria-hidden': 'true' }, '/'), h('span', { 'aria-current': 'page' }, agent.name)),
    h('header', { class: 'page-header' },
      h('div', null,
        h('p', { class: 'eyebrow' }, 'Agent'),
        h('h1', { class: 'page-title' }, agent.name),
        h('p', { class: 'page-meta' }, h('span', { class: 'muted' }, 'Image '), code(agent.image)),
        agent.command || agent.args || agent.env
          ? h('dl', { class: 'details details-compact run-spec' }, runRows(agent).map(([k, v]) => [h('dt', null, k), h('dd', null, v)]))
          : null,
        agent.description ? h('p', { class: 'page-description' }, agent.description) : null),
      h('div', { class: 'page-actions' },
        startButton,
        ctx.canWrite ? button('Edit', edit) : null,
        ctx.canWrite ? button('Delete', remove, { kind: 'danger-ghost' }) : null)),
    tabset);
}

