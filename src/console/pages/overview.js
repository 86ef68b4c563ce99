// overview.js — /organizations/<org>: where things stand and what to do next, in the order
// the image pull secrets flow goes (provider, secret, attach, start, watch).
import * as api from '../lib/api.js';
import { h, plural } from '../lib/dom.js';

async function count(org, suffix, query) {
  const page = await api.firstPage(api.orgPath(org, suffix), query);
  return { n: page.items.length, more: page.more, items: page.items };
}

function countText(c, one, many) {
  return c.more ? `${c.n}+ ${many}` : plural(c.n, one, many);
}

export default async function overviewPage(ctx) {
  const { org } = ctx;
  const [org_, providers, ips, agents, attachments, running, failed] = await Promise.all([
    api.get(api.orgPath(org)),
    count(org, '/secret-providers'), count(org, '/image-pull-secrets'), count(org, '/agents'),
    count(org, '/image-pull-secret-attachments'),
    count(org, '/workloads', { status: 'running' }), count(org, '/workloads', { status: 'failed' }),
  ]);
  ctx.setTitle('Overview');
  const base = `/organizations/${org}`;
  const step = ({ n, title, text, done, href, action, stat }) => h('li', { class: ['step', done && 'step-done'] },
    h('span', { class: 'step-number', 'aria-hidden': 'true' }, done ? '✓' : String(n)),
    h('div', { class: 'step-body' },
      h('h3', { class: 'step-title' }, title, done ? h('span', { class: 'sr-only' }, ' (done)') : null),
      h('p', { class: 'muted' }, text),
      h('p', { class: 'step-meta' }, stat ? h('span', { class: 'step-stat' }, stat) : null, h('a', { href }, action))));

  const cards = [
    { label: 'Agents', value: agents.more ? `${agents.n}+` : String(agents.n), href: `${base}/agents` },
    { label: 'Image pull secrets', value: ips.more ? `${ips.n}+` : String(ips.n), href: `${base}/image-pull-secrets` },
    { label: 'Running workloads', value: running.more ? `${running.n}+` : String(running.n), href: `${base}/monitoring?status=running`, tone: 'success' },
    { label: 'Failed workloads', value: failed.more ? `${failed.n}+` : String(failed.n), href: `${base}/monitoring?status=failed`, tone: failed.n ? 'danger' : null },
  ];

  return h('div', { class: 'page' },
    h('header', { class: 'page-header' },
      h('div', null,
        h('p', { class: 'eyebrow' }, 'Organization'),
        h('h1', { class: 'page-title' }, org_.name),
        h('p', { class: 'page-description' }, 'Pull private images for your agents, MCP servers and hooks with image pull secrets, and watch every start live.'))),
    h('ul', { class: 'stat-grid', 'aria-label': 'At a glance' }, cards.map((c) => h('li', null,
      h('a', { href: c.href, class: ['stat', c.tone && `stat-${c.tone}`] }, h('span', { class: 'stat-label' }, c.label), h('span', { class: 'stat-value' }, c.value))))),
    h('section', { class: 'section', 'aria-labelledby': 'getting-started' },
      h('h2', { class: 'section-title', id: 'getting-started' }, 'Getting started with private images'),
      h('ol', { class: 'steps' },
        step({ n: 1, title: 'Connect a secret provider (optional)', done: providers.n > 0, href: `${base}/secret-providers`, action: providers.n ? 'Manage providers' : 'Add a provider',
          stat: providers.n ? countText(providers, 'provider', 'providers') : null,
          text: 'Keep registry passwords in Vault or AWS Secrets Manager; agyn reads them at each workload start.' }),
        step({ n: 2, title: 'Create an image pull secret', done: ips.n > 0, href: `${base}/image-pull-secrets`, action: ips.n ? 'Manage image pull secrets' : 'New image pull secret',
          stat: ips.n ? countText(ips, 'secret', 'secrets') : null,
          text: 'Registry hostname, username, and a password stored inline or at a provider.' }),
        step({ n: 3, title: 'Attach it where the image is pulled', done: attachments.n > 0, href: `${base}/agents`, action: agents.n ? 'Open an agent' : 'Create an agent',
          stat: attachments.n ? countText(attachments, 'attachment', 'attachments') : null,
          text: 'On the agent, MCP server or hook page, open the Image pull secrets tab and attach it.' }),
        step({ n: 4, title: 'Start a workload and watch it', done: running.n > 0, href: `${base}/monitoring`, action: 'Open Monitoring',
          text: 'Monitoring shows each container’s pull, the secret it used, and the registry’s message if it fails.' }))));
}
