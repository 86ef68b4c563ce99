// workloads.js — a workload as a card (status, failure reason and message, and per container
// its status, reason, message and the image pull secret used), and a live list of them that
// the event stream keeps current without reloading.
import * as api from './api.js';
import * as events from './events.js';
import { h, statusBadge, badge, code, timeAgo, button, busy, toast, replaceChildren, emptyState } from './dom.js';
import { logPanels } from './logs.js';

const ROLE_LABEL = { main: 'main', mcp: 'MCP server', hook: 'hook' };

function shortId(id) {
  return id ? id.slice(0, 8) : '';
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(n) {
  let value = Number(n) || 0;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit ? value.toFixed(1) : value} ${UNITS[unit]}`;
}

/** Bytes done of total while the engine pulls the container's image. */
function pullProgress(container) {
  const p = container.pull_progress;
  if (!p || container.status !== 'waiting' || !p.bytes_total) return null;
  const done = Math.min(p.bytes_done || 0, p.bytes_total);
  const text = `${formatBytes(done)} of ${formatBytes(p.bytes_total)}`;
  return h('div', { class: 'pull-progress' },
    h('progress', { value: done, max: p.bytes_total, 'aria-label': `Pull progress of ${container.name}: ${text}` }),
    h('span', { class: 'muted small pull-progress-text' }, `Pulling ${text}`));
}

function containerRow(org, workload, container, logs) {
  const secret = container.credential
    ? h('a', { href: `/organizations/${org}/image-pull-secrets?q=${encodeURIComponent(container.credential.name)}`, class: 'secret-used' }, container.credential.name)
    : h('span', { class: 'muted' }, container.status === 'running' || container.image_digest ? 'Anonymous pull' : '—');
  const target = container.agent_id ? `/organizations/${org}/agents/${container.agent_id}`
    : container.mcp_id ? `/organizations/${org}/mcps/${container.mcp_id}`
      : container.hook_id ? `/organizations/${org}/hooks/${container.hook_id}` : null;
  let logsToggle = null;
  if (logs) {
    const key = `${workload.id}/${container.name}`;
    logsToggle = button('Logs', null, { size: 'sm', class: 'btn btn-default btn-sm logs-toggle',
      'aria-expanded': String(logs.isOpen(workload.id, container.name)), dataset: { logsToggle: key },
      'aria-label': `Logs of ${container.name}` });
    logsToggle.addEventListener('click', () => {
      const area = logsToggle.closest('.workload').querySelector('.log-panels');
      logsToggle.setAttribute('aria-expanded', String(logs.toggle(workload, container, area)));
    });
  }
  return h('tr', { dataset: { container: container.name, role: container.role } },
    h('th', { scope: 'row', dataset: { label: 'Container' } },
      h('div', { class: 'stack-xs' }, target ? h('a', { href: target, class: 'cell-title' }, container.name) : h('span', { class: 'cell-title' }, container.name),
        badge(ROLE_LABEL[container.role] || container.role, 'neutral'), logsToggle)),
    h('td', { dataset: { label: 'Image' } }, h('div', { class: 'stack-xs' }, code(container.image),
      container.image_digest ? h('span', { class: 'muted small digest', title: container.image_digest }, container.image_digest.slice(0, 19)) : null)),
    h('td', { dataset: { label: 'Status' }, class: 'container-status' }, h('div', { class: 'stack-xs' }, statusBadge(container.status),
      pullProgress(container),
      container.restart_count ? h('span', { class: 'muted small restart-count' }, `Restarted ${container.restart_count}×`) : null)),
    h('td', { dataset: { label: 'Reason' }, class: 'container-reason' }, container.reason ? code(container.reason) : h('span', { class: 'muted' }, '—')),
    h('td', { dataset: { label: 'Message' }, class: 'container-message' }, container.message ? h('span', { class: 'message' }, container.message) : h('span', { class: 'muted' }, '—')),
    h('td', { dataset: { label: 'Secret used' }, class: 'container-secret' }, secret));
}

/** One workload as an <article>; `agents` maps agent id to agent (for the title). */
export function workloadCard(org, workload, { agents, onstop, logs } = {}) {
  const agent = agents && agents.get(workload.agent_id);
  const stoppable = workload.status === 'starting' || workload.status === 'running';
  let stop = null;
  if (stoppable) {
    stop = button('Stop', null, { size: 'sm', 'aria-label': `Stop workload ${shortId(workload.id)}` });
    stop.addEventListener('click', async () => {
      const done = busy(stop, 'Stopping…');
      try {
        const updated = await api.post(api.orgPath(org, `/workloads/${workload.id}/stop`), {});
        if (onstop) onstop(updated);
      } catch (error) {
        done();
        toast(`Could not stop the workload: ${error.message}`, 'danger');
      }
    });
  }
  const titleId = `wl-${workload.id}`;
  return h('article', { class: `workload workload-${workload.status}`, 'aria-labelledby': titleId, dataset: { workloadId: workload.id, status: workload.status } },
    h('header', { class: 'workload-header' },
      h('div', null,
        h('h3', { class: 'workload-title', id: titleId },
          agent ? h('a', { href: `/organizations/${org}/agents/${agent.id}` }, agent.name) : 'Workload',
          h('span', { class: 'workload-id', title: workload.id }, ` #${shortId(workload.id)}`)),
        h('p', { class: 'muted small' }, 'Started ', timeAgo(workload.created_at), ' · updated ', timeAgo(workload.updated_at))),
      h('div', { class: 'workload-actions' }, statusBadge(workload.status), stop)),
    workload.failure_reason || workload.failure_message
      ? h('div', { class: 'failure', role: 'note' },
        h('div', { class: 'failure-head' }, h('span', { class: 'failure-label' }, 'Failure reason'),
          h('code', { class: 'code code-danger failure-reason' }, workload.failure_reason || 'unknown')),
        workload.failure_message ? h('p', { class: 'failure-message' }, workload.failure_message) : null)
      : null,
    h('div', { class: 'table-wrap' }, h('table', { class: 'table table-containers' },
      h('caption', { class: 'sr-only' }, `Containers of workload ${shortId(workload.id)}`),
      h('thead', null, h('tr', null, ['Container', 'Image', 'Status', 'Reason', 'Message', 'Secret used'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, (workload.containers || []).map((c) => containerRow(org, workload, c, logs))))),
    logs ? logs.area(workload) : null);
}

/**
 * A live list of workloads, newest first. It subscribes to the event stream at once and holds
 * what arrives until load(list) supplies the fetched list, so nothing that happens between the
 * request and its answer is lost. filter(workload) decides what belongs (e.g. one agent).
 */
export function liveWorkloads(ctx, { agents, filter = () => true, empty, announce = true }) {
  const { org } = ctx;
  const byId = new Map();
  const cards = new Map();
  const pending = [];
  let loaded = false;
  const list = h('div', { class: 'workload-list' });
  const live = h('p', { class: 'sr-only', 'aria-live': 'polite' });
  const container = h('div', null, live, list);
  let currentFilter = filter;
  const logs = logPanels(ctx);

  const newer = (a, b) => !b || a.updated_at >= b.updated_at;
  const sorted = () => [...byId.values()].filter((w) => currentFilter(w))
    .sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));

  function card(w) {
    return workloadCard(org, w, { agents, logs, onstop: (updated) => upsert(updated) });
  }

  function renderAll() {
    cards.clear();
    const items = sorted();
    if (!items.length) {
      replaceChildren(list, empty ? empty() : emptyState({ title: 'No workloads' }));
      return;
    }
    const fragment = document.createDocumentFragment();
    for (const w of items) {
      const el = card(w);
      cards.set(w.id, el);
      fragment.appendChild(el);
    }
    replaceChildren(list, fragment);
  }

  function upsert(workload) {
    if (!loaded) {
      pending.push(workload);
      return;
    }
    const previous = byId.get(workload.id);
    if (!newer(workload, previous)) return;
    byId.set(workload.id, workload);
    logs.update(workload);
    if (!currentFilter(workload)) return;
    const old = cards.get(workload.id);
    if (old && old.isConnected) {
      const el = card(workload);
      cards.set(workload.id, el);
      old.replaceWith(el);
    } else {
      renderAll();
    }
    if (announce && (!previous || previous.status !== workload.status)) {
      const agent = agents && agents.get(workload.agent_id);
      live.textContent = `Workload ${shortId(workload.id)}${agent ? ` of ${agent.name}` : ''} is ${workload.status}${workload.failure_reason ? ` (${workload.failure_reason})` : ''}.`;
    }
  }

  ctx.onCleanup(events.on('workload.*', (data) => {
    if (data && data.id) upsert(data);
  }));
  return {
    node: container,
    upsert,
    /** The fetched list; events that arrived meanwhile are applied on top when newer. */
    load(items) {
      for (const w of items) byId.set(w.id, w);
      for (const w of pending.splice(0)) {
        if (newer(w, byId.get(w.id))) byId.set(w.id, w);
      }
      loaded = true;
      renderAll();
    },
    setFilter(fn) {
      currentFilter = fn;
      renderAll();
    },
    count: () => sorted().length,
    redraw(id) {
      const old = cards.get(id);
      const workload = byId.get(id);
      if (!old || !workload || !old.isConnected) return;
      const el = card(workload);
      cards.set(id, el);
      old.replaceWith(el);
    },
  };
}
