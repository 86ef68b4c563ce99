// dom.js — building DOM without innerHTML (so server text is never parsed as markup), plus the
// Console's small shared widgets: form fields with error slots, dialogs, toasts, badges, times.

let idCounter = 0;
export function uid(prefix = 'id') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/**
 * h('button', {class: 'btn', onclick: fn, 'aria-label': 'x'}, 'text', child, [more])
 * Attributes: class, text, dataset (object), on<event> (function), boolean values set or omit
 * the attribute, properties `value`/`checked`/`selected` are set as properties.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
      else if (key === 'text') el.textContent = value;
      else if (key === 'dataset') Object.assign(el.dataset, value);
      else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
      else if (key === 'value' || key === 'checked' || key === 'selected') el[key] = value;
      else if (value === true) el.setAttribute(key, '');
      else el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replaceChildren(el, ...children) {
  clear(el);
  return append(el, children);
}

/* ---------- text and time ---------- */

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export function formatDateTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : dateTime.format(date);
}

export function formatRelative(iso, now = Date.now()) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const seconds = Math.round((date.getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return 'just now';
  if (abs < 2700) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 79200) return relative.format(Math.round(seconds / 3600), 'hour');
  if (abs < 2592000) return relative.format(Math.round(seconds / 86400), 'day');
  return dateTime.format(date);
}

/** <time> showing "3 minutes ago", the full date on hover and for assistive technology. */
export function timeAgo(iso) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: iso, title: formatDateTime(iso), class: 'time' }, formatRelative(iso));
}

export function plural(count, one, many = `${one}s`) {
  return `${count} ${count === 1 ? one : many}`;
}

/* ---------- small widgets ---------- */

const TONES = {
  starting: 'info', running: 'success', failed: 'danger', stopping: 'neutral', stopped: 'neutral',
  waiting: 'warning', terminated: 'neutral',
};

export function badge(text, tone = 'neutral', extra = {}) {
  return h('span', { class: `badge badge-${tone}`, ...extra }, text);
}

export function statusBadge(status) {
  return h('span', { class: `badge badge-${TONES[status] || 'neutral'} badge-status`,
    dataset: { status: status || '' } }, h('span', { class: 'dot', 'aria-hidden': 'true' }), status || 'unknown');
}

/** Monospace text that may wrap after '/', '.', ':' and '@' (hosts, paths, images). */
export function code(text) {
  const el = h('code', { class: 'code' });
  const parts = String(text ?? '').split(/(?<=[/.:@])/);
  parts.forEach((part, i) => {
    if (i) el.appendChild(document.createElement('wbr'));
    el.appendChild(document.createTextNode(part));
  });
  return el;
}

export function link(href, text, attrs = {}) {
  return h('a', { href, ...attrs }, text);
}

export function button(label, onclick, { kind = 'default', size, type = 'button', ...attrs } = {}) {
  return h('button', { type, class: ['btn', `btn-${kind}`, size && `btn-${size}`], onclick, ...attrs }, label);
}

/** Marks a button busy (disabled with a different label) until the returned function runs. */
export function busy(btn, label) {
  const previous = btn.textContent;
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  if (label) btn.textContent = label;
  return () => {
    btn.disabled = false;
    btn.removeAttribute('aria-busy');
    // A label the action set meanwhile (e.g. "Delete agent and all of this") stays.
    if (!label || btn.textContent === label) btn.textContent = previous;
  };
}

export function emptyState({ title, body, actions = [] }) {
  return h('div', { class: 'empty' },
    h('div', { class: 'empty-icon', 'aria-hidden': 'true' }),
    h('h2', { class: 'empty-title' }, title),
    body ? h('p', { class: 'empty-body' }, body) : null,
    actions.length ? h('div', { class: 'empty-actions' }, actions) : null);
}

export function alertBox(message, tone = 'danger', attrs = {}) {
  return h('div', { class: `alert alert-${tone}`, role: tone === 'danger' ? 'alert' : 'status', ...attrs }, message);
}

export function loading(text = 'Loading…') {
  return h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
}

/* ---------- toasts ---------- */

let toastRegion = null;
export function toast(message, tone = 'success', timeout = 4000) {
  if (!toastRegion || !document.body.contains(toastRegion)) {
    toastRegion = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.appendChild(toastRegion);
  }
  const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss' }, '×');
  const item = h('div', { class: `toast toast-${tone}` }, h('div', { class: 'toast-text' }, message), close);
  const remove = () => item.remove();
  close.addEventListener('click', remove);
  toastRegion.appendChild(item);
  while (toastRegion.children.length > 3) toastRegion.firstElementChild.remove();
  if (timeout) setTimeout(remove, tone === 'danger' ? timeout * 2 : timeout);
  return item;
}

/* ---------- form fields ---------- */

/**
 * A labelled control with a hint and an error slot, wired with aria-describedby.
 * kind: input (default), select, textarea. `options` for select: [{value, label}].
 */
export function field({ label, name, type = 'text', value = '', kind = 'input', hint, required = false,
  options = [], placeholder, autocomplete, attrs = {}, optional = false }) {
  const id = uid('f');
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  let control;
  if (kind === 'select') {
    control = h('select', { id, name, required, ...attrs },
      options.map((o) => h('option', { value: o.value, selected: o.value === value, disabled: o.disabled }, o.label)));
  } else if (kind === 'textarea') {
    control = h('textarea', { id, name, required, placeholder, rows: 3, ...attrs });
    control.value = value || '';
  } else {
    control = h('input', { id, name, type, required, placeholder, autocomplete, spellcheck: type === 'text' ? 'false' : undefined, ...attrs });
    control.value = value || '';
  }
  control.setAttribute('aria-describedby', hint ? `${hintId} ${errorId}` : errorId);
  const wrapper = h('div', { class: 'field', dataset: { field: name } },
    h('label', { for: id, class: 'label' }, label, optional ? h('span', { class: 'optional' }, ' (optional)') : null),
    control,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('p', { class: 'field-error', id: errorId, hidden: true }));
  wrapper.control = control;
  return wrapper;
}

/**
 * A radio group as selectable cards: choices [{value, label, description}].
 * The group's fieldset carries data-field=name so API errors naming `name` land here.
 */
export function choiceGroup({ legend, name, choices, value, onchange, hint }) {
  const id = uid('g');
  const errorId = `${id}-error`;
  const set = h('fieldset', { class: 'field choices', dataset: { field: name }, 'aria-describedby': errorId },
    h('legend', { class: 'label' }, legend),
    hint ? h('p', { class: 'hint' }, hint) : null,
    h('div', { class: 'choice-list' }, choices.map((choice) => {
      const inputId = uid('c');
      const input = h('input', { type: 'radio', name, id: inputId, value: choice.value, checked: choice.value === value,
        'aria-describedby': choice.description ? `${inputId}-d` : undefined });
      if (onchange) input.addEventListener('change', () => onchange(choice.value));
      return h('div', { class: 'choice' }, input,
        h('label', { for: inputId, class: 'choice-label' }, choice.label),
        choice.description ? h('span', { class: 'choice-description', id: `${inputId}-d` }, choice.description) : null);
    })),
    h('p', { class: 'field-error', id: errorId, hidden: true }));
  return set;
}

export function formValue(form, name) {
  const el = form.elements.namedItem(name);
  if (!el) return undefined;
  if (el instanceof RadioNodeList) return el.value;
  return el.value;
}

/** Clears every error shown in the form. */
export function clearErrors(form) {
  for (const el of form.querySelectorAll('.field-error')) {
    el.hidden = true;
    el.textContent = '';
  }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const banner = form.querySelector('.form-error');
  if (banner) {
    banner.hidden = true;
    banner.textContent = '';
  }
}

/** Shows `message` beside the field named `name`; false when the form has no such field. */
export function showFieldError(form, name, message) {
  const wrapper = name ? form.querySelector(`[data-field="${CSS.escape(name)}"]`) : null;
  if (!wrapper || wrapper.closest('[hidden]')) return false;
  const slot = wrapper.querySelector('.field-error');
  slot.textContent = message;
  slot.hidden = false;
  const control = wrapper.querySelector('input:not([type=radio]), select, textarea') || wrapper.querySelector('input');
  if (control) control.setAttribute('aria-invalid', 'true');
  return true;
}

/* The form's field for an error's field: "args[1]" or "env.PATH" land on the args or env field
 * when there is no field of their own. */
function formFieldFor(form, name) {
  if (!name) return null;
  return form.querySelector(`[data-field="${CSS.escape(name)}"]`) ? name : name.replace(/[[.].*$/, '');
}

function focusField(form, name) {
  const at = `[data-field="${CSS.escape(name)}"]`;
  const control = form.querySelector(`${at} input, ${at} select, ${at} textarea`);
  if (control) control.focus();
}

function showBanner(form, message) {
  let banner = form.querySelector('.form-error');
  if (!banner) {
    banner = h('div', { class: 'alert alert-danger form-error', role: 'alert' });
    const actions = form.querySelector('.form-actions');
    form.insertBefore(banner, actions || null);
  }
  banner.textContent = message;
  banner.hidden = false;
}

/** Shows an API error beside the field it names (error.field) — every field of a 422's
 * error.errors beside its own — or above the form's buttons. */
export function showError(form, error) {
  clearErrors(form);
  let message = error && error.message ? error.message : String(error);
  if (error && error.status === 403) message = `Not allowed: ${message}`;
  // Every field error of a 422 at once, each beside its field; those without one in the banner.
  if (error && error.errors && error.errors.length > 1) {
    const elsewhere = [];
    let first = null;
    for (const entry of error.errors) {
      const field = formFieldFor(form, entry.field);
      if (field && form.querySelector(`[data-field="${CSS.escape(field)}"] .field-error:not([hidden])`)) continue;
      if (field && showFieldError(form, field, entry.message)) first = first || field;
      else elsewhere.push(entry.field ? `${entry.field}: ${entry.message}` : entry.message);
    }
    if (elsewhere.length) showBanner(form, elsewhere.join(' '));
    if (first) focusField(form, first);
    if (first || elsewhere.length) return;
  }
  const field = error && formFieldFor(form, error.field);
  if (field && showFieldError(form, field, message)) {
    error.field = field;
    focusField(form, field);
    return;
  }
  showBanner(form, message);
}

/** Checks required fields in visible sections; shows "X is required" beside each. */
export function checkRequired(form) {
  clearErrors(form);
  let first = null;
  for (const control of form.querySelectorAll('[required]')) {
    if (control.closest('[hidden]') || control.disabled) continue;
    if (control.type === 'radio') continue;
    if (!String(control.value || '').trim()) {
      const wrapper = control.closest('[data-field]');
      const label = wrapper ? wrapper.querySelector('.label') : null;
      const name = label ? label.firstChild.textContent.trim() : control.name;
      showFieldError(form, wrapper ? wrapper.dataset.field : control.name, `${name} is required.`);
      first = first || control;
    }
  }
  if (first) first.focus();
  return !first;
}

/* ---------- dialogs ---------- */

/**
 * A modal <dialog> (focus is trapped and Escape closes it natively). Returns {dialog, body,
 * footer, close}. The dialog is removed from the document when it closes.
 */
export function openDialog({ title, description, content = [], wide = false, onclose }) {
  const titleId = uid('dlg');
  const body = h('div', { class: 'dialog-body' }, content);
  const closeButton = h('button', { type: 'button', class: 'dialog-close', 'aria-label': 'Close' }, '×');
  const dialog = h('dialog', { class: ['dialog', wide && 'dialog-wide'], 'aria-labelledby': titleId },
    h('div', { class: 'dialog-header' },
      h('div', null, h('h2', { id: titleId, class: 'dialog-title' }, title),
        description ? h('p', { class: 'dialog-description' }, description) : null),
      closeButton),
    body);
  const close = () => {
    if (dialog.open) dialog.close();
  };
  closeButton.addEventListener('click', close);
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (onclose) onclose();
  });
  document.body.appendChild(dialog);
  dialog.showModal();
  const focusable = dialog.querySelector('[autofocus], .dialog-body input:not([type=hidden]):not([disabled]), .dialog-body select, .dialog-body textarea, .dialog-body button');
  if (focusable) focusable.focus();
  return { dialog, body, close };
}

/** A form in a dialog: fields, then Cancel and the submit button. onsubmit(form) may throw an
 *  ApiError, which is shown beside its field; return normally to close. */
export function formDialog({ title, description, fields, submitLabel = 'Save', submitKind = 'primary', onsubmit, wide }) {
  const submit = h('button', { type: 'submit', class: `btn btn-${submitKind}` }, submitLabel);
  const cancel = h('button', { type: 'button', class: 'btn btn-default' }, 'Cancel');
  const form = h('form', { class: 'form', novalidate: true, method: 'post' }, fields,
    h('div', { class: 'form-actions' }, cancel, submit));
  const handle = openDialog({ title, description, content: [form], wide });
  cancel.addEventListener('click', handle.close);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!checkRequired(form)) return;
    const done = busy(submit, 'Saving…');
    try {
      await onsubmit(form, handle);
      done();
      handle.close();
    } catch (error) {
      done();
      if (error && error.keepOpen) return;
      showError(form, error);
    }
  });
  return { ...handle, form };
}

/** Asks before a destructive action. `confirm` runs on the button; throw to show an error. */
export function confirmDialog({ title, message, confirmLabel = 'Delete', kind = 'danger', onconfirm, extra }) {
  const confirmButton = h('button', { type: 'submit', class: `btn btn-${kind}` }, confirmLabel);
  const cancel = h('button', { type: 'button', class: 'btn btn-default' }, 'Cancel');
  const form = h('form', { class: 'form', method: 'post' },
    typeof message === 'string' ? h('p', null, message) : message,
    extra || null,
    h('div', { class: 'form-actions' }, cancel, confirmButton));
  const handle = openDialog({ title, content: [form] });
  cancel.addEventListener('click', handle.close);
  cancel.focus();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const done = busy(confirmButton, 'Working…');
    try {
      await onconfirm(handle, { form, confirmButton });
      done();
      handle.close();
    } catch (error) {
      done();
      if (error && error.keepOpen) return;
      showError(form, error);
    }
  });
  return { ...handle, form, confirmButton };
}

/* ---------- tables ---------- */

/**
 * A table whose rows become cards on narrow screens: columns [{label, className}], rows are
 * arrays of cell contents (or {cells, attrs}). Built off-document and inserted once.
 */
export function table({ columns, rows, caption, className = '' }) {
  const tbody = h('tbody');
  fillRows(tbody, columns, rows);
  return h('div', { class: 'table-wrap' },
    h('table', { class: `table ${className}` },
      caption ? h('caption', { class: 'sr-only' }, caption) : null,
      h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col', class: c.className }, c.label)))),
      tbody));
}

export function fillRows(tbody, columns, rows) {
  const fragment = document.createDocumentFragment();
  for (const row of rows) {
    const cells = Array.isArray(row) ? row : row.cells;
    const tr = h('tr', Array.isArray(row) ? null : row.attrs);
    cells.forEach((content, i) => {
      const column = columns[i] || {};
      tr.appendChild(h(i === 0 && column.header !== false ? 'th' : 'td',
        { class: column.className, scope: i === 0 && column.header !== false ? 'row' : undefined, dataset: { label: column.label || '' } },
        content));
    });
    fragment.appendChild(tr);
  }
  clear(tbody);
  tbody.appendChild(fragment);
}

/** Roving-tabindex tabs (arrow keys, Home, End). tabs: [{id, label, render(panel)}]. */
export function tabs({ items, selected, label, onselect }) {
  const list = h('div', { class: 'tabs', role: 'tablist', 'aria-label': label });
  const panels = h('div', { class: 'tab-panels' });
  const buttons = [];
  const panelEls = [];
  const select = (index, focus = false, notify = true) => {
    buttons.forEach((b, i) => {
      const on = i === index;
      b.setAttribute('aria-selected', on ? 'true' : 'false');
      b.tabIndex = on ? 0 : -1;
      panelEls[i].hidden = !on;
    });
    if (focus) buttons[index].focus();
    if (!panelEls[index].dataset.rendered) {
      panelEls[index].dataset.rendered = '1';
      items[index].render(panelEls[index]);
    }
    if (notify && onselect) onselect(items[index].id);
  };
  items.forEach((item, index) => {
    const tabId = uid('tab');
    const panelId = uid('panel');
    const btn = h('button', { type: 'button', role: 'tab', id: tabId, 'aria-controls': panelId, class: 'tab',
      dataset: { tab: item.id } }, item.label);
    btn.addEventListener('click', () => select(index));
    btn.addEventListener('keydown', (event) => {
      const last = items.length - 1;
      let next = null;
      if (event.key === 'ArrowRight') next = index === last ? 0 : index + 1;
      else if (event.key === 'ArrowLeft') next = index === 0 ? last : index - 1;
      else if (event.key === 'Home') next = 0;
      else if (event.key === 'End') next = last;
      if (next !== null) {
        event.preventDefault();
        select(next, true);
      }
    });
    const panel = h('div', { role: 'tabpanel', id: panelId, 'aria-labelledby': tabId, class: 'tab-panel', tabindex: '0', hidden: true });
    buttons.push(btn);
    panelEls.push(panel);
    list.appendChild(btn);
    panels.appendChild(panel);
  });
  const start = Math.max(0, items.findIndex((i) => i.id === selected));
  select(start, false, false);
  return h('div', { class: 'tabset' }, list, panels);
}
