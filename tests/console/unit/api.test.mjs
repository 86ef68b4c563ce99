// api.test.mjs — the Console's pure API helpers (src/console/lib/api.js): the typed error built
// from the API's {"error":{...}} body, organization paths, and query strings.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ApiError, orgPath, withQuery } from '../../../src/console/lib/api.js';

test('ApiError takes code, message, field and referrers from the error body', () => {
  const error = new ApiError(409, {
    error: { code: 'conflict', message: 'still attached', field: 'id', referrers: [{ kind: 'agent' }] },
  });
  assert.ok(error instanceof Error);
  assert.equal(error.status, 409);
  assert.equal(error.code, 'conflict');
  assert.equal(error.message, 'still attached');
  assert.equal(error.field, 'id');
  assert.deepEqual(error.referrers, [{ kind: 'agent' }]);
});

test('ApiError without an error body falls back to the status', () => {
  const error = new ApiError(502, null);
  assert.equal(error.message, 'The server answered 502.');
  assert.equal(error.code, 'unknown');
  assert.equal(error.field, null);
  assert.equal(error.referrers, null);
  assert.equal(new ApiError(0, undefined).code, 'network');
  assert.equal(new ApiError(500, { error: {} }).message, 'The server answered 500.');
});

test('ApiError ignores referrers that are not an array', () => {
  assert.equal(new ApiError(409, { error: { referrers: 'agent' } }).referrers, null);
  assert.equal(new ApiError(409, { error: { referrers: { 0: 'a' } } }).referrers, null);
});

test('orgPath escapes the organization', () => {
  assert.equal(orgPath('0b6f3c3e'), '/api/v1/organizations/0b6f3c3e');
  assert.equal(orgPath('0b6f3c3e', '/agents'), '/api/v1/organizations/0b6f3c3e/agents');
  assert.equal(orgPath('../admin?x=1#y'), '/api/v1/organizations/..%2Fadmin%3Fx%3D1%23y');
});

test('withQuery appends given values and skips empty ones', () => {
  assert.equal(withQuery('/a', undefined), '/a');
  assert.equal(withQuery('/a', {}), '/a');
  assert.equal(withQuery('/a', { x: '', y: null, z: undefined }), '/a');
  assert.equal(withQuery('/a', { page_size: 100, page_token: 'p q&r' }), '/a?page_size=100&page_token=p+q%26r');
  assert.equal(withQuery('/a?b=1', { c: 0 }), '/a?b=1&c=0');
  assert.equal(withQuery('/a', { flag: false }), '/a?flag=false');
});
