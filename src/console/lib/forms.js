// forms.js — the create/edit forms for agents, MCP servers and hooks, shared by their list and
// detail pages.
import * as api from './api.js';
import { h, code, field, formDialog, formValue, toast } from './dom.js';
import { KIND } from './model.js';

const IMAGE_HINT = 'A full image reference: registry/repository:tag, e.g. ghcr.io/acme/support-agent:1.4.';

/** The Command, Arguments and Environment fields: one entry per line; empty = the image's own. */
function runFields(existing) {
  const lines = (list) => (Array.isArray(list) ? list.join('\n') : '');
  const env = existing && existing.env ? Object.entries(existing.env).map(([k, v]) => `${k}=${v}`).join('\n') : '';
  return [
    field({ label: 'Command', name: 'command', kind: 'textarea', optional: true, value: lines(existing?.command),
      placeholder: '/bin/sh\n-c', hint: 'Replaces the image’s entrypoint: one word per line. Empty: the image’s own.', attrs: { spellcheck: 'false' } }),
    field({ label: 'Arguments', name: 'args', kind: 'textarea', optional: true, value: lines(existing?.args),
      placeholder: '--port\n7070', hint: 'Replaces the image’s command: one argument per line. Empty: the image’s own.', attrs: { spellcheck: 'false' } }),
    field({ label: 'Environment', name: 'env', kind: 'textarea', optional: true, value: env,
      placeholder: 'LOG_LEVEL=debug', hint: 'KEY=VALUE, one per line. Plain settings only: every member can read them, so never put secrets here.', attrs: { spellcheck: 'false' } }),
  ];
}

/** Details rows for what a container runs: [label, value] pairs. */
export function runRows(item) {
  const own = (what) => h('span', { class: 'muted' }, `The image’s own ${what}`);
  const words = (list) => h('span', { class: 'run-words' }, list.map((w) => code(w)));
  return [
    ['Command', Array.isArray(item.command) ? words(item.command) : own('entrypoint')],
    ['Arguments', Array.isArray(item.args) ? words(item.args) : own('command')],
    ['Environment', item.env && Object.keys(item.env).length
      ? h('ul', { class: 'run-env' }, Object.entries(item.env).map(([k, v]) => h('li', null, code(`${k}=${v}`))))
      : own('environment')],
  ];
}

function fieldError(field, message) {
  const error = new Error(message);
  error.field = field;
  return error;
}

/** Reads the three fields into body: what changed on edit, what is set on create. null clears. */
function readRunFields(form, existing, body) {
  const list = (name) => {
    const text = formValue(form, name).replace(/\r/g, '');
    const items = text.split('\n').filter((line) => line !== '');
    return items.length ? items : null;
  };
  const envText = formValue(form, 'env').replace(/\r/g, '');
  let env = null;
  for (const line of envText.split('\n')) {
    if (!line.trim()) continue;
    const eq = line.indexOf('=');
    const key = eq > 0 ? line.slice(0, eq).trim() : '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw fieldError('env', `“${line.slice(0, 40)}” is not KEY=VALUE (letters, digits and _ in the name, not starting with a digit).`);
    }
    env = env || {};
    env[key] = line.slice(eq + 1);
  }
  const values = { command: list('command'), args: list('args'), env };
  for (const [key, value] of Object.entries(values)) {
    const before = existing ? existing[key] ?? null : null;
    if (JSON.stringify(value) !== JSON.stringify(before)) body[key] = value;
  }
}

/** Create (existing null) or edit an agent; resolves to the saved agent. */
export function agentForm(ctx, existing, onsaved) {
  const isEdit = Boolean(existing);
  formDialog({
    title: isEdit ? `Edit ${existing.name}` : 'New agent',
    description: isEdit ? null : 'An agent runs as a workload: its image is the main container.',
    fields: [
      field({ label: 'Name', name: 'name', required: true, value: existing?.name, autocomplete: 'off' }),
      field({ label: 'Image', name: 'image', required: true, value: existing?.image, placeholder: 'ghcr.io/acme/agent:1.0', hint: IMAGE_HINT, autocomplete: 'off' }),
      field({ label: 'Description', name: 'description', kind: 'textarea', optional: true, value: existing?.description }),
      ...runFields(existing),
    ],
    submitLabel: isEdit ? 'Save' : 'Create agent',
    onsubmit: async (form) => {
      const body = {};
      for (const key of ['name', 'image', 'description']) {
        const value = formValue(form, key).trim();
        if (!isEdit ? value : value !== (existing[key] || '')) body[key] = value;
      }
      readRunFields(form, existing, body);
      const saved = isEdit
        ? await api.patch(api.orgPath(ctx.org, `/agents/${existing.id}`), body)
        : await api.post(api.orgPath(ctx.org, '/agents'), body);
      toast(isEdit ? `Agent “${saved.name}” saved.` : `Agent “${saved.name}” created.`);
      if (onsaved) await onsaved(saved);
    },
  });
}

/** Create or edit an MCP server (kind 'mcp') or hook (kind 'hook'). `agents` feeds the picker
 *  when no agent is fixed. */
export function partForm(ctx, kind, { existing = null, agent = null, agents = [], onsaved } = {}) {
  const meta = KIND[kind];
  const isEdit = Boolean(existing);
  const fields = [];
  if (!isEdit && !agent) {
    fields.push(field({ label: 'Agent', name: 'agent_id', kind: 'select', required: true,
      options: [{ value: '', label: agents.length ? 'Choose an agent…' : 'Create an agent first' },
        ...agents.map((a) => ({ value: a.id, label: a.name }))],
      hint: `The ${meta.noun} runs in the agent's workloads, beside its main container.` }));
  }
  if (kind === 'mcp') {
    fields.push(field({ label: 'Name', name: 'name', required: true, value: existing?.name, autocomplete: 'off',
      hint: 'Unique within the agent.' }));
  } else {
    fields.push(field({ label: 'Event', name: 'event', required: true, value: existing?.event, autocomplete: 'off',
      placeholder: 'on_message', hint: 'Lower-case letters, digits and _ . - : (starts with a letter).' }));
  }
  fields.push(field({ label: 'Image', name: 'image', required: true, value: existing?.image, placeholder: 'ghcr.io/acme/tool:1.0', hint: IMAGE_HINT, autocomplete: 'off' }));
  fields.push(field({ label: 'Description', name: 'description', kind: 'textarea', optional: true, value: existing?.description }));
  fields.push(...runFields(existing));
  formDialog({
    title: isEdit ? `Edit ${existing[meta.label]}` : `New ${meta.noun}`,
    description: agent && !isEdit ? `For agent ${agent.name}.` : null,
    fields,
    submitLabel: isEdit ? 'Save' : `Create ${meta.noun}`,
    onsubmit: async (form) => {
      const body = {};
      for (const key of [meta.label, 'image', 'description']) {
        const value = formValue(form, key).trim();
        if (!isEdit ? value : value !== (existing[key] || '')) body[key] = value;
      }
      readRunFields(form, existing, body);
      if (!isEdit) body.agent_id = agent ? agent.id : formValue(form, 'agent_id');
      const saved = isEdit
        ? await api.patch(api.orgPath(ctx.org, `/${meta.path}/${existing.id}`), body)
        : await api.post(api.orgPath(ctx.org, `/${meta.path}`), body);
      toast(`${meta.title} “${saved[meta.label]}” ${isEdit ? 'saved' : 'created'}.`);
      if (onsaved) await onsaved(saved);
    },
  });
}
