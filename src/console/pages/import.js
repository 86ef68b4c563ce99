// import.js — /organizations/<org>/image-pull-secrets/import: paste or choose a Docker
// config.json; each "auths" entry becomes an image pull secret (POST .../import), and each
// entry the server refuses is listed with its reason. Nothing is kept in the browser.
import * as api from '../lib/api.js';
import { h, field, formValue, replaceChildren, alertBox, busy, table, toast } from '../lib/dom.js';

export default async function importPage(ctx) {
  const { org } = ctx;
  ctx.setTitle('Import Docker config');
  const result = h('div', { class: 'stack', 'aria-live': 'polite' });
  const configField = field({
    label: 'Docker config.json', name: 'config', kind: 'textarea', required: true,
    hint: 'The contents of ~/.docker/config.json. Entries in "auths" with a username and password (or "auth") are imported; credential stores and helpers are not.',
  });
  configField.control.rows = 10;
  configField.control.spellcheck = false;
  const fileInput = h('input', { type: 'file', accept: 'application/json,.json', 'aria-label': 'Choose a config.json file' });
  fileInput.addEventListener('change', async () => {
    const file = fileInput.files && fileInput.files[0];
    if (file) configField.control.value = await file.text();
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Import');
  const form = h('form', { class: 'form panel panel-padded', novalidate: true },
    h('div', { class: 'field' }, h('span', { class: 'label' }, 'From a file'), fileInput),
    configField,
    h('div', { class: 'form-actions' }, submit));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replaceChildren(result);
    let config;
    try {
      config = JSON.parse(formValue(form, 'config'));
    } catch {
      replaceChildren(result, alertBox('This is not JSON: paste the whole config.json.', 'danger'));
      return;
    }
    const done = busy(submit, 'Importing…');
    try {
      const answer = await api.post(api.orgPath(org, '/image-pull-secrets/import'), config);
      const created = answer.created || [];
      const errors = answer.errors || [];
      replaceChildren(result,
        alertBox(`Imported ${created.length} of ${created.length + errors.length} ${created.length + errors.length === 1 ? 'entry' : 'entries'}.`, errors.length ? 'warning' : 'success'),
        created.length ? table({
          caption: 'Imported image pull secrets',
          columns: [{ label: 'Name' }, { label: 'Registry' }, { label: 'Username' }],
          rows: created.map((c) => [h('span', { class: 'cell-title' }, c.name), h('code', null, c.registry), c.username]),
        }) : null,
        errors.length ? table({
          caption: 'Entries not imported',
          columns: [{ label: 'Entry' }, { label: 'Reason' }],
          rows: errors.map((e) => [h('code', null, e.key), (e.error && e.error.message) || 'refused']),
        }) : null,
        h('p', null, h('a', { href: `/organizations/${org}/image-pull-secrets` }, 'Back to Image Pull Secrets')));
      if (created.length) toast(`Imported ${created.length} image pull ${created.length === 1 ? 'secret' : 'secrets'}.`);
      configField.control.value = '';
    } catch (error) {
      replaceChildren(result, alertBox(error.message, 'danger'));
    } finally {
      done();
    }
  });

  return h('div', { class: 'page' },
    h('header', { class: 'page-header' },
      h('div', null,
        h('h1', { class: 'page-title' }, 'Import Docker config'),
        h('p', { class: 'page-description' }, 'Create one image pull secret per registry you are logged in to with docker login. Each is named after its registry, with an inline password.'))),
    form, result);
}
