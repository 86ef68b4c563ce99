// forms.js — the create/edit forms for agents, MCP servers and hooks, shared by their list and
// detail pages.
import * as api from './api.js';
import { field, formDialog, formValue, toast } from './dom.js';
import { KIND } from './model.js';

const IMAGE_HINT = 'A full image reference: registry/repository:tag, e.g. ghcr.io/acme/support-agent:1.4.';

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
    ],
    submitLabel: isEdit ? 'Save' : 'Create agent',
    onsubmit: async (form) => {
      const body = {};
      for (const key of ['name', 'image', 'description']) {
        const value = formValue(form, key).trim();
        if (!isEdit ? value : value !== (existing[key] || '')) body[key] = value;
      }
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
      if (!isEdit) body.agent_id = agent ? agent.id : formValue(form, 'agent_id');
      const saved = isEdit
        ? await api.patch(api.orgPath(ctx.org, `/${meta.path}/${existing.id}`), body)
        : await api.post(api.orgPath(ctx.org, `/${meta.path}`), body);
      toast(`${meta.title} “${saved[meta.label]}” ${isEdit ? 'saved' : 'created'}.`);
      if (onsaved) await onsaved(saved);
    },
  });
}
