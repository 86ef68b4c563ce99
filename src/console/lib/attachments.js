// attachments.js — the "Image pull secrets" tab of an agent, MCP server or hook: what is
// attached, in the order the runner tries them — the API's answer (matches_image, try_order
// from GET .../image-pull-secrets), never computed here — then those that do not match;
// "Attach image pull secret" (pick one or more, Save) and Detach. Kept current from the event
// stream.
import * as api from './api.js';
import * as events from './events.js';
import {
  h, button, busy, toast, emptyState, fillRows, timeAgo, code, openDialog, replaceChildren, badge,
  alertBox, loading, plural,
} from './dom.js';
import { load, byId, KIND, storageCell } from './model.js';

const COLUMNS = [
  { label: 'Name' }, { label: 'Registry' }, { label: 'Tried' }, { label: 'Username' }, { label: 'Password storage' },
  { label: 'Attached', className: 'col-time' }, { label: 'Actions', className: 'col-actions' },
];

/** How the runner orders the secrets (docs/semantics.md, rule 2); the order itself comes from the API. */
const TRY_ORDER_HINT = 'Pick one or more. For each pull the runner tries the attached secrets whose registry matches '
  + "the image's registry, more specific first (fewer * labels, then a longer path), then in attachment order; "
  + 'the first that logs in is used. The Tried column shows the order.';

/** "1st", "2nd", "3rd", "4th", …, "11th", "21st". */
function ordinal(n) {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] || 'th');
  return `${n}${suffix}`;
}

/** The API's list (attachment order) with the ones the runner tries first, by try_order, then the rest. */
function inTryOrder(attached) {
  const tried = attached.filter((s) => s.try_order).sort((a, b) => a.try_order - b.try_order);
  return tried.concat(attached.filter((s) => !s.try_order));
}

/** kind: agent | mcp | hook; target: the resource (id, image, name/event). */
export function attachmentsPanel({ ctx, kind, target }) {
  const { org } = ctx;
  const meta = KIND[kind];
  const label = target[meta.label];
  const state = { attached: [], providers: new Map(), secrets: new Map() };
  const attachButton = button('Attach image pull secret', () => openAttach(), { kind: 'primary' });
  const body = h('div', { class: 'panel' }, loading());
  const tbody = h('tbody');
  const tableEl = h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
    h('caption', { class: 'sr-only' }, `Image pull secrets attached to ${meta.noun} ${label}`),
    h('thead', null, h('tr', null, COLUMNS.map((c) => h('th', { scope: 'col', class: c.className }, c.label)))),
    tbody));

  async function fetchAttached() {
    const [page, providers, secrets] = await Promise.all([
      api.get(api.orgPath(org, `/${meta.path}/${target.id}/image-pull-secrets`)),
      load.providers(org), load.secrets(org),
    ]);
    state.attached = page.items || [];
    state.providers = byId(providers);
    state.secrets = byId(secrets);
  }

  function render() {
    if (!state.attached.length) {
      replaceChildren(body, emptyState({
        title: 'No image pull secrets attached',
        body: `The runner pulls ${target.image} anonymously. If its registry is private, attach the image pull secret that holds its credentials.`,
        actions: [button('Attach image pull secret', () => openAttach(), { kind: 'primary' })],
      }));
      return;
    }
    const anyMatch = state.attached.some((s) => s.matches_image);
    fillRows(tbody, COLUMNS, inTryOrder(state.attached).map((secret) => {
      const detachButton = button('Detach', null, { size: 'sm', kind: 'danger-ghost', 'aria-label': `Detach ${secret.name}` });
      detachButton.addEventListener('click', () => detach(secret, detachButton));
      return {
        attrs: { dataset: { id: secret.id, name: secret.name } },
        cells: [
          h('div', null, h('a', { href: `/organizations/${org}/image-pull-secrets?q=${encodeURIComponent(secret.name)}`, class: 'cell-title' }, secret.name)),
          h('div', { class: 'stack-xs' }, code(secret.registry),
            secret.matches_image ? badge('Matches the image', 'success') : null),
          secret.try_order ? ordinal(secret.try_order) : h('span', { class: 'muted' }, 'Not used'),
          secret.username,
          storageCell(secret, { providers: state.providers, secrets: state.secrets, org }),
          timeAgo(secret.attached_at),
          h('div', { class: 'row-actions' }, detachButton),
        ],
      };
    }));
    replaceChildren(body,
      anyMatch ? null : alertBox(`None of these match the registry of ${target.image}; the runner will pull it anonymously.`, 'warning'),
      tableEl);
  }

  async function refresh() {
    try {
      await fetchAttached();
      render();
    } catch (error) {
      if (error.status !== 401) replaceChildren(body, alertBox(error.message));
    }
  }

  async function detach(secret, btn) {
    const done = busy(btn, 'Detaching…');
    try {
      await api.del(api.orgPath(org, `/image-pull-secret-attachments/${secret.attachment_id}`));
      toast(`Detached “${secret.name}” from ${meta.noun} ${label}.`);
      await refresh();
      const next = body.querySelector('button');
      if (next) next.focus();
    } catch (error) {
      done();
      toast(`Could not detach: ${error.message}`, 'danger');
    }
  }

  async function openAttach() {
    let all;
    try {
      all = await load.imagePullSecrets(org);
    } catch (error) {
      toast(error.message, 'danger');
      return;
    }
    const attachedIds = new Set(state.attached.map((s) => s.id));
    const available = all.filter((s) => !attachedIds.has(s.id)).sort((a, b) => a.name.localeCompare(b.name));
    const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save');
    const cancel = h('button', { type: 'button', class: 'btn btn-default' }, 'Cancel');
    const error = h('div', { class: 'alert alert-danger form-error', role: 'alert', hidden: true });
    let content;
    if (!all.length) {
      content = emptyState({ title: 'No image pull secrets in this organization',
        body: 'Create one with the registry credentials first, then come back to attach it.',
        actions: [h('a', { href: `/organizations/${org}/image-pull-secrets?new=1`, class: 'btn btn-primary', onclick: () => handle.close() }, 'New image pull secret')] });
      save.hidden = true;
    } else if (!available.length) {
      content = h('p', { class: 'muted' }, `Every image pull secret of this organization is already attached to ${meta.noun} ${label}.`);
      save.hidden = true;
    } else {
      const filter = available.length > 8 ? h('input', { type: 'search', class: 'search-input', placeholder: 'Filter', 'aria-label': 'Filter image pull secrets' }) : null;
      const options = available.map((secret) => {
        const id = `attach-${secret.id}`;
        return h('li', { class: 'check-option', dataset: { text: `${secret.name} ${secret.registry} ${secret.username}`.toLowerCase() } },
          h('input', { type: 'checkbox', id, name: 'image_pull_secret_id', value: secret.id }),
          h('label', { for: id },
            h('span', { class: 'check-title' }, secret.name),
            h('span', { class: 'check-meta' }, `${secret.registry} · ${secret.username}`)));
      });
      const list = h('ul', { class: 'check-list' }, options);
      if (filter) {
        filter.addEventListener('input', () => {
          const needle = filter.value.trim().toLowerCase();
          for (const li of options) li.hidden = Boolean(needle) && !li.dataset.text.includes(needle);
        });
      }
      content = h('fieldset', { class: 'field' },
        h('legend', { class: 'label' }, 'Image pull secrets'),
        h('p', { class: 'hint' }, TRY_ORDER_HINT),
        filter, list);
    }
    const form = h('form', { class: 'form', method: 'post', novalidate: true }, content, error, h('div', { class: 'form-actions' }, cancel, save));
    const handle = openDialog({ title: 'Attach image pull secret', description: `To ${meta.noun} ${label} (image ${target.image}).`, content: [form] });
    cancel.addEventListener('click', handle.close);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const chosen = [...form.querySelectorAll('input[type=checkbox]:checked')].map((c) => c.value);
      if (!chosen.length) {
        error.textContent = 'Pick at least one image pull secret.';
        error.hidden = false;
        return;
      }
      error.hidden = true;
      const done = busy(save, 'Saving…');
      const failures = [];
      let attached = 0;
      for (const id of chosen) {
        try {
          await api.post(api.orgPath(org, '/image-pull-secret-attachments'), { image_pull_secret_id: id, [meta.column]: target.id });
          attached += 1;
          const box = form.querySelector(`input[value="${id}"]`);
          box.checked = false;
          box.closest('li').hidden = true;
        } catch (err) {
          const secret = available.find((s) => s.id === id);
          failures.push(`${secret ? secret.name : id}: ${err.message}`);
        }
      }
      done();
      if (attached) toast(`Attached ${plural(attached, 'image pull secret')} to ${meta.noun} ${label}.`);
      await refresh();
      if (failures.length) {
        error.textContent = failures.join(' ');
        error.hidden = false;
        return;
      }
      handle.close();
    });
  }

  const unsubscribe = [events.on('attachment.*', () => schedule()), events.on('image_pull_secret.*', () => schedule())];
  let timer = null;
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 150);
  };
  ctx.onCleanup(() => {
    unsubscribe.forEach((fn) => fn());
    clearTimeout(timer);
  });

  refresh();
  return h('section', { class: 'section', 'aria-labelledby': `ips-heading-${target.id}` },
    h('div', { class: 'section-header' },
      h('div', null,
        h('h2', { class: 'section-title', id: `ips-heading-${target.id}` }, 'Image pull secrets'),
        h('p', { class: 'section-description' }, `Credentials the runner uses to pull ${target.image}: it tries those that match the image's registry in the order shown (more specific first, then attachment order), and the first that logs in is used.`)),
      attachButton),
    body);
}
