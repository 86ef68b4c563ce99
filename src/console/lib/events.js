// events.js — one EventSource per organization (the session cookie goes along, same-origin),
// shared by every page: on('workload.updated', fn) subscribes and returns an unsubscribe.
// EventSource reconnects by itself and sends Last-Event-ID, so nothing is missed.

const TYPES = [
  'workload.created', 'workload.updated', 'workload.status_changed',
  'image_pull_secret.created', 'image_pull_secret.updated', 'image_pull_secret.deleted',
  'attachment.created', 'attachment.deleted',
];

let source = null;
let currentOrg = null;
let state = 'offline';
const listeners = new Map();
const stateListeners = new Set();

function setState(next) {
  if (state === next) return;
  state = next;
  for (const fn of stateListeners) fn(state);
}

function dispatch(type, data) {
  for (const key of [type, `${type.split('.')[0]}.*`, '*']) {
    const set = listeners.get(key);
    if (!set) continue;
    for (const fn of [...set]) {
      try {
        fn(data, type);
      } catch (error) {
        console.error('event listener failed', error);
      }
    }
  }
}

export function connect(org) {
  if (source && currentOrg === org) return;
  disconnect();
  currentOrg = org;
  setState('connecting');
  source = new EventSource(`/api/v1/organizations/${encodeURIComponent(org)}/events`);
  source.addEventListener('open', () => setState('live'));
  // The stream's token or session ended (revoked, signed out): it will not come back.
  source.addEventListener('unauthorized', () => disconnect());
  source.addEventListener('error', () => {
    setState(source && source.readyState === EventSource.CLOSED ? 'offline' : 'connecting');
  });
  for (const type of TYPES) {
    source.addEventListener(type, (event) => {
      let data = null;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      dispatch(type, data);
    });
  }
}

export function disconnect() {
  if (source) source.close();
  source = null;
  currentOrg = null;
  setState('offline');
}

/** type: an event name, 'workload.*', or '*'. */
export function on(type, fn) {
  if (!listeners.has(type)) listeners.set(type, new Set());
  listeners.get(type).add(fn);
  return () => listeners.get(type).delete(fn);
}

export function onState(fn) {
  stateListeners.add(fn);
  fn(state);
  return () => stateListeners.delete(fn);
}

export function currentState() {
  return state;
}
