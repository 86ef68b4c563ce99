// model.test.mjs — the Console's pure model helpers (src/console/lib/model.js): rows by id,
// provider labels, the hint for a remote path, and the attachment target kinds.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { byId, KIND, providerLabel, remotePathHint } from '../../../src/console/lib/model.js';

test('byId maps ids to rows; a later duplicate wins', () => {
  const rows = [{ id: 'a', n: 1 }, { id: 'b', n: 2 }, { id: 'a', n: 3 }];
  const map = byId(rows);
  assert.equal(map.size, 2);
  assert.equal(map.get('a').n, 3);
  assert.equal(map.get('b').n, 2);
  assert.equal(byId([]).size, 0);
});

test('providerLabel names the type, and a missing provider', () => {
  assert.equal(providerLabel({ name: 'prod', type: 'vault' }), 'prod (Vault)');
  assert.equal(providerLabel({ name: 'aws', type: 'aws-secrets-manager' }), 'aws (AWS Secrets Manager)');
  assert.equal(providerLabel({ name: 'x', type: 'future-type' }), 'x (future-type)');
  assert.equal(providerLabel(null), 'a deleted provider');
  assert.equal(providerLabel(undefined), 'a deleted provider');
});

test('remotePathHint per provider type', () => {
  assert.match(remotePathHint('aws-secrets-manager'), /name or ARN.*#json-key/);
  assert.match(remotePathHint('vault'), /KV v2/);
  assert.equal(remotePathHint('anything else'), remotePathHint('vault'));
});

test('KIND: the three attachment targets and the API columns naming them', () => {
  assert.deepEqual(Object.keys(KIND), ['agent', 'mcp', 'hook']);
  assert.equal(KIND.agent.column, 'agent_id');
  assert.equal(KIND.mcp.column, 'mcp_id');
  assert.equal(KIND.hook.column, 'hook_id');
  assert.equal(KIND.hook.label, 'event');
  for (const kind of Object.values(KIND)) assert.ok(kind.path && kind.noun && kind.title);
});
