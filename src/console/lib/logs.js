// logs.js — a Logs panel per container: GET .../containers/{name}/logs?follow=true streamed
// with fetch and appended as it arrives. Panels outlive the workload cards they sit in (a card
// is redrawn on every event), so a follow is never interrupted by an update. When the runtime
// keeps no logs (pull-only) or the container has not run yet, the panel says so.
import * as api from './api.js';
import { h, button, replaceChildren } from './dom.js';

const TAIL = 500;
const KEEP_CHARS = 200000; // older output is dropped from the panel, not from the container

function logsPath(org, workloadId, name, tail) {
  return `${api.orgPath(org, `/workloads/${workloadId}/containers/${encodeURIComponent(name)}/logs`)}?follow=true&tail=${tail}`;
}

/** The open panels of one page; cleaned up (every follow aborted) when the page goes. */
export function logPanels(ctx) {
  const { org } = ctx;
  const open = new Map(); // "<workload id>/<container name>" -> panel

  function createPanel(workload, container) {
    const key = `${workload.id}/${container.name}`;
    const output = h('pre', { class: 'log-output', role: 'log', tabindex: '0', 'aria-label': `Logs of ${container.name}` });
    const status = h('p', { class: 'log-status muted small', role: 'status' });
    const panel = {
      key,
      workloadId: workload.id,
      name: container.name,
      state: 'idle', // connecting | following | ended | none | error
      startedAt: container.started_at,
      controller: null,
      node: null,
    };
    const close = button('Close', () => closePanel(key), { size: 'sm', 'aria-label': `Close the logs of ${container.name}` });
    panel.node = h('section', { class: 'log-panel', dataset: { container: container.name }, 'aria-label': `Logs of ${container.name}` },
      h('header', { class: 'log-header' },
        h('h4', { class: 'log-title' }, 'Logs · ', h('code', { class: 'code' }, container.name)),
        close),
      status, output);

    const setState = (state, text) => {
      panel.state = state;
      panel.node.dataset.state = state;
      replaceChildren(status, text);
    };
    const append = (text) => {
      if (!text) return;
      const atBottom = output.scrollTop + output.clientHeight >= output.scrollHeight - 4;
      output.textContent += text;
      if (output.textContent.length > KEEP_CHARS) output.textContent = output.textContent.slice(-KEEP_CHARS);
      if (atBottom) output.scrollTop = output.scrollHeight;
    };

    panel.follow = async (tail = TAIL) => {
      if (panel.controller) panel.controller.abort();
      const controller = new AbortController();
      panel.controller = controller;
      setState('connecting', 'Connecting…');
      try {
        const response = await fetch(logsPath(org, panel.workloadId, panel.name, tail), {
          credentials: 'same-origin', cache: 'no-store', signal: controller.signal, headers: { Accept: 'text/plain' },
        });
        if (!response.ok) {
          let body = null;
          try {
            body = await response.json();
          } catch {
            body = null;
          }
          const error = new api.ApiError(response.status, body);
          if (response.status === 409) setState('none', error.message);
          else setState('error', `Could not read the logs: ${error.message}`);
          return;
        }
        setState('following', 'Following live');
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          append(decoder.decode(value, { stream: true }));
        }
        append(decoder.decode());
        if (panel.controller === controller) setState('ended', 'The stream ended: the container is not running. Its log so far is above.');
      } catch (error) {
        if (controller.signal.aborted) return;
        setState('error', `The log stream broke: ${error.message}`);
      }
    };
    panel.stop = () => {
      if (panel.controller) panel.controller.abort();
      panel.controller = null;
    };
    panel.clear = () => {
      output.textContent = '';
    };
    return panel;
  }

  function closePanel(key) {
    const panel = open.get(key);
    if (!panel) return;
    panel.stop();
    panel.node.remove();
    open.delete(key);
    const toggle = document.querySelector(`[data-logs-toggle="${CSS.escape(key)}"]`);
    if (toggle) {
      toggle.setAttribute('aria-expanded', 'false');
      toggle.focus();
    }
  }

  ctx.onCleanup(() => {
    for (const panel of open.values()) panel.stop();
    open.clear();
  });

  return {
    isOpen: (workloadId, name) => open.has(`${workloadId}/${name}`),
    /** Opens (into area, the card's panel area) or closes the container's panel. */
    toggle(workload, container, area) {
      const key = `${workload.id}/${container.name}`;
      if (open.has(key)) {
        closePanel(key);
        return false;
      }
      const panel = createPanel(workload, container);
      open.set(key, panel);
      area.appendChild(panel.node);
      panel.follow();
      return true;
    },
    /** The card's panel area with the workload's open panels moved into it. */
    area(workload) {
      const area = h('div', { class: 'log-panels' });
      for (const panel of open.values()) if (panel.workloadId === workload.id) area.appendChild(panel.node);
      return area;
    },
    /** A newer workload: a panel that found no logs, or whose container started again
     *  (restart policy), follows anew. */
    update(workload) {
      for (const container of workload.containers || []) {
        const panel = open.get(`${workload.id}/${container.name}`);
        if (!panel) continue;
        const restarted = container.status === 'running' && container.started_at !== panel.startedAt;
        panel.startedAt = container.started_at;
        if (panel.state === 'none' && container.container_id) panel.follow();
        else if (restarted && (panel.state === 'ended' || panel.state === 'error')) {
          panel.clear();
          panel.follow();
        }
      }
    },
  };
}
