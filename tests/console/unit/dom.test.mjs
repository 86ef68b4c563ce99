// dom.test.mjs — the Console's pure text helpers (src/console/lib/dom.js): plurals, and dates
// shown relative to now or in full (invalid dates give "").
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { formatDateTime, formatRelative, plural } from '../../../src/console/lib/dom.js';

test('plural', () => {
  assert.equal(plural(0, 'agent'), '0 agents');
  assert.equal(plural(1, 'agent'), '1 agent');
  assert.equal(plural(2, 'agent'), '2 agents');
  assert.equal(plural(3, 'MCP server'), '3 MCP servers');
  assert.equal(plural(2, 'entry', 'entries'), '2 entries');
  assert.equal(plural(1, 'entry', 'entries'), '1 entry');
});

test('formatRelative: just now, minutes, hours, days, then the date', () => {
  const now = Date.parse('2026-01-15T12:00:00Z');
  const at = (seconds) => new Date(now + seconds * 1000).toISOString();
  const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  assert.equal(formatRelative(at(0), now), 'just now');
  assert.equal(formatRelative(at(-44), now), 'just now');
  assert.equal(formatRelative(at(44), now), 'just now');
  assert.equal(formatRelative(at(-45), now), relative.format(-1, 'minute'));
  assert.equal(formatRelative(at(-5 * 60), now), relative.format(-5, 'minute'));
  assert.equal(formatRelative(at(-2 * 3600), now), relative.format(-2, 'hour'));
  assert.equal(formatRelative(at(3 * 86400), now), relative.format(3, 'day'));
  assert.equal(formatRelative(at(-40 * 86400), now), formatDateTime(at(-40 * 86400)));
});

test('invalid dates give empty text', () => {
  assert.equal(formatRelative('not a date'), '');
  assert.equal(formatDateTime('not a date'), '');
  assert.equal(formatDateTime(''), '');
  assert.notEqual(formatDateTime('2026-01-15T12:00:00Z'), '');
});
