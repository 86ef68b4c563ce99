// organizations.js — /organizations (server-admin token): pick an organization, or create one.
import * as api from '../lib/api.js';
import { h, button, emptyState, table, timeAgo, code, field, formDialog, formValue, toast } from '../lib/dom.js';

export default async function organizationsPage(ctx) {
  ctx.setTitle('Organizations');
  const orgs = await api.listAll('/api/v1/organizations');
  const isAdmin = ctx.session.role === 'admin';
  const create = () => formDialog({
    title: 'New organization',
    fields: [field({ label: 'Name', name: 'name', required: true, autocomplete: 'off' })],
    submitLabel: 'Create organization',
    onsubmit: async (form) => {
      const org = await api.post('/api/v1/organizations', { name: formValue(form, 'name').trim() });
      toast(`Organization “${org.name}” created.`);
      ctx.navigate(`/organizations/${org.id}`);
    },
  });
  const body = orgs.length
    ? table({
      caption: 'Organizations',
      columns: [{ label: 'Name' }, { label: 'ID' }, { label: 'Created', className: 'col-time' }],
      rows: orgs.map((org) => ({
        attrs: { dataset: { id: org.id } },
        cells: [h('a', { href: `/organizations/${org.id}`, class: 'cell-title' }, org.name), code(org.id), timeAgo(org.created_at)],
      })),
    })
    : emptyState({
      title: 'No organizations yet',
      body: 'An organization holds agents, their credentials and their workloads. Create one, then give its people organization tokens.',
      actions: isAdmin ? [button('New organization', create, { kind: 'primary' })] : [],
    });
  return h('div', { class: 'page' },
    h('header', { class: 'page-header' },
      h('div', null,
        h('h1', { class: 'page-title' }, 'Organizations'),
        h('p', { class: 'page-description' }, isAdmin ? 'You are signed in with the server-admin token. Pick an organization to manage.' : 'Your organization.')),
      h('div', { class: 'page-actions' }, isAdmin ? button('New organization', create, { kind: 'primary' }) : null)),
    h('div', { class: 'panel' }, body));
}
