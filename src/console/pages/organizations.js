// organizations.js — /organizations (server-admin token): pick an organization, create one, or
// delete one (a non-empty one only after the dialog has listed what goes with it).
import * as api from '../lib/api.js';
import {
  h, button, emptyState, table, timeAgo, code, field, formDialog, formValue, toast, confirmDialog, plural, replaceChildren,
} from '../lib/dom.js';

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
  // The API refuses a non-empty organization (409 listing what would go) unless cascade=true:
  // the first confirmation asks plainly, a 409 shows the contents and asks again.
  const remove = (org) => {
    let cascade = false;
    const message = h('div', { class: 'stack' },
      h('p', null, `Delete organization “${org.name}”? Its API tokens stop working.`));
    confirmDialog({
      title: 'Delete organization',
      message,
      confirmLabel: 'Delete organization',
      onconfirm: async (_dialog, { confirmButton }) => {
        try {
          await api.del(`/api/v1/organizations/${encodeURIComponent(org.id)}`, { query: cascade ? { cascade: 'true' } : undefined });
        } catch (error) {
          if (error.status === 409 && error.contents && !cascade) {
            cascade = true;
            replaceChildren(message,
              h('p', null, `Deleting “${org.name}” also deletes:`),
              h('ul', { class: 'delete-contents' }, error.contents.map((c) => h('li', null,
                `${plural(c.count, c.kind.replaceAll('_', ' '))}${c.names && c.names.length ? `: ${c.names.join(', ')}${c.names.length < c.count ? ', …' : ''}` : ''}`))),
              h('p', { class: 'muted' }, 'This cannot be undone.'));
            confirmButton.textContent = 'Delete organization and all of this';
            error.message = 'The organization is not empty. Review the list and confirm again.';
          }
          throw error;
        }
        toast(`Organization “${org.name}” deleted.`);
        ctx.navigate('/organizations', { replace: true });
      },
    });
  };
  const columns = [{ label: 'Name' }, { label: 'ID' }, { label: 'Created', className: 'col-time' }];
  if (isAdmin) columns.push({ label: 'Actions', className: 'col-actions' });
  const body = orgs.length
    ? table({
      caption: 'Organizations',
      columns,
      rows: orgs.map((org) => ({
        attrs: { dataset: { id: org.id } },
        cells: [h('a', { href: `/organizations/${org.id}`, class: 'cell-title' }, org.name), code(org.id), timeAgo(org.created_at),
          ...(isAdmin ? [button('Delete', () => remove(org), { size: 'sm', kind: 'danger-ghost', 'aria-label': `Delete ${org.name}` })] : [])],
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
