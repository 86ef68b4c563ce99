// api.js — the Console's only way to the server: JSON over fetch with the session cookie, the
// CSRF token on writes, typed errors, and paging through list endpoints.

let csrfToken = null;
let unauthorizedHandler = null;

export function setCsrfToken(token) {
  csrfToken = token || null;
}

/** Called with the ApiError when a request answers 401 (the session ended). */
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `The server answered ${status}.`);
    this.status = status;
    this.code = error.code || (status === 0 ? 'network' : 'unknown');
    this.field = error.field || null;
    // A 422 lists every field error at once: [{field, message}] (the first is field/message).
    this.errors = Array.isArray(error.errors)
      ? error.errors.filter((e) => e && typeof e.field === 'string' && typeof e.message === 'string')
      : null;
    this.referrers = Array.isArray(error.referrers) ? error.referrers : null;
    // A refused delete of something that holds other objects: [{kind, count, names}].
    this.contents = Array.isArray(error.contents) ? error.contents : null;
  }
}

/** Builds an API path under the organization: orgPath(org, '/agents'). */
export function orgPath(org, suffix = '') {
  return `/api/v1/organizations/${encodeURIComponent(org)}${suffix}`;
}

/** path with the query object appended (empty, null and undefined values left out). */
export function withQuery(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}${path.includes('?') ? '&' : '?'}${text}` : path;
}

/**
 * One request. `body` (an object) is sent as JSON. Options: query (object), auth (false: a 401
 * is the caller's business, not a signal that the session ended), signal (AbortSignal).
 */
export async function request(method, path, body, options = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let response;
  try {
    response = await fetch(withQuery(path, options.query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: options.signal,
    });
  } catch (cause) {
    if (cause && cause.name === 'AbortError') throw cause;
    throw new ApiError(0, { error: { code: 'network', message:
      'Could not reach the agyn server. Check your connection and try again.' } });
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && options.auth !== false && unauthorizedHandler) {
      unauthorizedHandler(error);
    }
    throw error;
  }
  return data;
}

export const get = (path, options) => request('GET', path, undefined, options);
export const post = (path, body = {}, options) => request('POST', path, body, options);
export const patch = (path, body, options) => request('PATCH', path, body, options);
export const del = (path, options) => request('DELETE', path, undefined, options);

/** Every item of a list endpoint, 100 per request, following next_page_token. */
export async function listAll(path, query = {}, options = {}) {
  const items = [];
  let token = '';
  for (let guard = 0; guard < 10000; guard++) {
    const page = await get(path, { ...options, query: { ...query, page_size: 100,
      page_token: token || undefined } });
    for (const item of page.items || []) items.push(item);
    token = page.next_page_token || '';
    if (!token) break;
  }
  return items;
}

/** The first page only, with whether there is more (for counts on the overview). */
export async function firstPage(path, query = {}) {
  const page = await get(path, { query: { ...query, page_size: 100 } });
  return { items: page.items || [], more: Boolean(page.next_page_token) };
}
