// Herald demo inbox: plain browser JavaScript, no build step, no dependencies.
//
// It logs in through the dev-only GET /dev/session, then uses the real APIs
// (SPEC 2-5): a single-use ticket per stream connection, the inbox API with a
// subscriber token, and the publish API with the publisher key.
//
// Safety: every string from the server is rendered with textContent or as an
// attribute value; nothing from the network is ever parsed as HTML.

const PAGE_SIZE = 20;
const TOAST_MS = 6000;
const MAX_TOASTS = 4;
const LOG_MAX = 80;
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const CLOCK_MS = 30000;
const STORE_USER = 'herald.demo.user';
const STORE_WATCH = 'herald.demo.watch';
const EVENT_NAME = /^[A-Za-z0-9._-]{1,64}$/;
// Names publishers may not use (SPEC 5), compared case-insensitively. The
// page listens for none it does not handle, so `live` (SPEC 3) is ignored.
const RESERVED = new Set(['connected', 'notification', 'unread-count', 'reset', 'live', 'message', 'error', 'open']);

const $ = (id) => document.getElementById(id);
const ui = {
  userForm: $('user-form'), userId: $('user-id'), userError: $('user-error'),
  conn: $('conn'), connText: $('conn-text'), bell: $('bell'), badge: $('badge'),
  inbox: $('inbox'), summary: $('inbox-summary'), list: $('list'), empty: $('empty'),
  markAll: $('mark-all'), loadMore: $('load-more'),
  sendForm: $('send-form'), sendUsers: $('send-users'), sendType: $('send-type'),
  sendTitle: $('send-title'), sendMessage: $('send-message'), sendStatus: $('send-status'),
  sendExample: $('send-example'),
  watch: $('watch'), log: $('log'), logClear: $('log-clear'), toasts: $('toasts'),
};

// All mutable page state. gen increases on every user switch; async work
// started for an older gen drops its result. epoch does the same for inbox
// (re)loads, so that a stale "load more" cannot overwrite a fresh inbox.
const state = {
  gen: 0, userId: '', token: '', publisherKey: '',
  items: new Map(), nextCursor: null, unread: 0,
  epoch: 0, loading: false, journal: null, loaded: false,
  es: null, on: null, lastEventId: '', attempt: 0, retryTimer: 0,
  watch: [],
};

/** Stale marks work abandoned because the user switched meanwhile. */
class Stale extends Error {}

/** APIError is a non-2xx answer, carrying the server's error code and message. */
class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// ---------------------------------------------------------------- helpers

function load(key, fallback) {
  try { return localStorage.getItem(key) ?? fallback; } catch { return fallback; }
}

function save(key, value) {
  try { localStorage.setItem(key, value); } catch { /* storage disabled: not remembered */ }
}

/** h builds an element; text is set with textContent, attrs with setAttribute. */
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v == null) continue;
    if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  node.append(...children.filter(Boolean));
  return node;
}

/** icon clones a static symbol from the page; it never carries data. */
function icon(name) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  const use = document.createElementNS('http://www.w3.org/2000/svg', 'use');
  use.setAttribute('href', '#i-' + name);
  svg.append(use);
  return svg;
}

const relFmt = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const absFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

function relativeTime(iso) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const s = Math.round((t - Date.now()) / 1000);
  const a = Math.abs(s);
  if (a < 45) return 'just now';
  if (a < 3600) return relFmt.format(Math.round(s / 60), 'minute');
  if (a < 86400) return relFmt.format(Math.round(s / 3600), 'hour');
  if (a < 7 * 86400) return relFmt.format(Math.round(s / 86400), 'day');
  return absFmt.format(t);
}

function timeEl(iso) {
  const t = Date.parse(iso);
  return h('time', {
    datetime: iso, title: Number.isNaN(t) ? '' : absFmt.format(t), text: relativeTime(iso),
  });
}

/** typeHue gives each notification type a stable colour. */
function typeHue(type) {
  let x = 0;
  for (const c of String(type)) x = (x * 31 + c.codePointAt(0)) >>> 0;
  return x % 360;
}

function chip(type) {
  const c = h('span', { class: 'chip', text: type || 'notification' });
  c.style.setProperty('--hue', String(typeHue(type)));
  return c;
}

/** safeHref returns link as an http(s) URL, or '' for anything else (javascript:, data:, …). */
function safeHref(link) {
  if (typeof link !== 'string' || link === '') return '';
  try {
    const u = new URL(link, location.href);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : '';
  } catch { return ''; }
}

function newestFirst(a, b) {
  const d = (Date.parse(b.createdAt) || 0) - (Date.parse(a.createdAt) || 0);
  if (d !== 0) return d;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

// ---------------------------------------------------------------- API

async function request(method, path, key, body) {
  const headers = { Accept: 'application/json' };
  if (key) headers.Authorization = 'Bearer ' + key;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method, headers, cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) {
    const e = data && data.error;
    throw new APIError(res.status, e?.code ?? 'http', e?.message ?? `HTTP ${res.status}`);
  }
  return data;
}

function fetchSession(userId) {
  return request('GET', '/dev/session?user=' + encodeURIComponent(userId));
}

/** inbox calls the subscriber API; on 401 (token expired) it renews the session once. */
async function inbox(method, path) {
  const gen = state.gen;
  try {
    return await request(method, path, state.token);
  } catch (err) {
    if (!(err instanceof APIError) || err.status !== 401) throw err;
    const s = await fetchSession(state.userId);
    if (gen !== state.gen) throw new Stale();
    state.token = s.token;
    state.publisherKey = s.publisherKey;
    return request(method, path, state.token);
  }
}

// ---------------------------------------------------------------- session

async function switchUser(userId) {
  const gen = ++state.gen;
  disconnect();
  const previous = state.userId;
  Object.assign(state, {
    userId, token: '', publisherKey: '', items: new Map(), nextCursor: null, unread: 0,
    epoch: state.epoch + 1, loading: false, journal: null, loaded: false, lastEventId: '', attempt: 0,
  });
  ui.userError.textContent = '';
  ui.userId.value = userId;
  const to = ui.sendUsers.value.trim();
  if (!previous || !to || to === previous) ui.sendUsers.value = userId; // keep a recipient the user typed
  clearToasts();
  nodes.clear();
  ui.list.replaceChildren();
  render();
  setConn('connecting', 'Connecting…');
  try {
    const s = await fetchSession(userId);
    if (gen !== state.gen) return;
    state.token = s.token;
    state.publisherKey = s.publisherKey;
  } catch (err) {
    if (gen !== state.gen) return;
    ui.userError.textContent = err.message;
    setConn('offline', 'Not signed in');
    ui.summary.textContent = 'Not signed in.';
    logLine('error', 'session: ' + err.message, 'error');
    return;
  }
  save(STORE_USER, userId);
  logLine('session', 'signed in as ' + userId, 'meta');
  connect(gen);
}

// ---------------------------------------------------------------- stream

function disconnect() {
  clearTimeout(state.retryTimer);
  state.retryTimer = 0;
  if (state.es) {
    state.es.close();
    state.es = null;
  }
}

/** connect fetches a fresh single-use ticket and opens the stream, resuming after lastEventId. */
async function connect(gen) {
  state.retryTimer = 0;
  let ticket;
  try {
    ticket = (await inbox('POST', '/api/notifications/sse/ticket')).ticket;
  } catch (err) {
    if (gen !== state.gen || err instanceof Stale) return;
    logLine('error', 'ticket: ' + err.message, 'error');
    scheduleReconnect(gen);
    return;
  }
  if (gen !== state.gen) return;
  const q = new URLSearchParams({ ticket });
  if (state.lastEventId) q.set('lastEventId', state.lastEventId);
  const es = new EventSource('/api/notifications/sse?' + q);
  state.es = es;
  const on = (name, fn) => es.addEventListener(name, (ev) => {
    if (state.es !== es) return;
    let data = null;
    try { data = ev.data ? JSON.parse(ev.data) : null; } catch {
      logLine(name, 'unparsable data: ' + ev.data.slice(0, 120), 'error');
      return;
    }
    fn(data, ev);
    if (ev.lastEventId) state.lastEventId = ev.lastEventId;
  });
  on('connected', (d) => onConnected(d));
  on('notification', (n) => onNotification(n));
  on('notification.read', (d) => { logLine('notification.read', JSON.stringify(d)); applyEvent('read', d); });
  on('notification.deleted', (d) => { logLine('notification.deleted', JSON.stringify(d)); applyEvent('deleted', d); });
  on('unread-count', (d) => { logLine('unread-count', String(d?.count), 'quiet'); setUnread(d?.count); });
  on('reset', (d) => { logLine('reset', d?.reason ?? '', 'warn'); state.lastEventId = ''; loadInbox(); });
  state.on = on;
  watchNames(es, on);
  es.addEventListener('error', () => {
    if (state.es !== es) return;
    es.close();
    state.es = null;
    scheduleReconnect(gen);
  });
}

/** watchNames listens on es for the system event names in the watch field. */
function watchNames(es, on) {
  const attached = watched.get(es) ?? new Set();
  watched.set(es, attached);
  for (const name of state.watch) {
    if (attached.has(name)) continue;
    attached.add(name);
    on(name, (d) => { if (state.watch.includes(name)) logLine(name, d == null ? '' : JSON.stringify(d), 'system'); });
  }
}
const watched = new WeakMap(); // EventSource -> names it has listeners for

function onConnected(d) {
  state.attempt = 0;
  setConn('live', 'Live');
  logLine('connected', 'client ' + (d?.clientId ?? '?'), 'meta');
  // Without a resume id the server sends only live events, so the inbox
  // must come from the API; with one, it replays what we missed.
  if (!state.lastEventId || !state.loaded) loadInbox();
}

function onNotification(n) {
  if (!n || typeof n.id !== 'string') return;
  logLine('notification', `${n.type}: ${n.title}`);
  const known = state.items.has(n.id);
  applyEvent('notification', n);
  if (!known) toast(n);
}

function scheduleReconnect(gen) {
  if (gen !== state.gen || state.retryTimer) return;
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** state.attempt);
  const delay = Math.round(base / 2 + Math.random() * base / 2); // jitter: spread reconnects out
  state.attempt++;
  setConn('reconnecting', 'Reconnecting…');
  logLine('disconnected', `retrying in ${(delay / 1000).toFixed(1)} s`, 'warn');
  state.retryTimer = setTimeout(() => connect(gen), delay);
}

function setConn(kind, text) {
  ui.conn.dataset.state = kind;
  ui.connText.textContent = text;
}

// ---------------------------------------------------------------- inbox state

/**
 * applyEvent changes the inbox for a stream event. While the inbox is being
 * (re)loaded, events are also journalled and replayed onto the fresh page,
 * so nothing that arrives during the fetch is lost.
 */
function applyEvent(kind, data) {
  if (state.journal) state.journal.push([kind, data]);
  mutate(state.items, kind, data);
  render();
}

function mutate(items, kind, data) {
  if (!data) return;
  switch (kind) {
    case 'notification':
      items.set(data.id, data);
      break;
    case 'read': {
      const at = new Date().toISOString();
      const ids = data.all ? [...items.keys()] : (data.ids ?? []);
      for (const id of ids) {
        const n = items.get(id);
        if (n && !n.readAt) items.set(id, { ...n, readAt: at });
      }
      break;
    }
    case 'deleted':
      for (const id of data.ids ?? []) items.delete(id);
      break;
  }
}

function setUnread(count) {
  if (Number.isInteger(count) && count >= 0) state.unread = count;
  render();
}

async function loadInbox() {
  const gen = state.gen;
  const epoch = ++state.epoch;
  state.loading = true;
  state.journal = [];
  render();
  try {
    const [page, count] = await Promise.all([
      inbox('GET', `/api/notifications?limit=${PAGE_SIZE}`),
      inbox('GET', '/api/notifications/unread-count'),
    ]);
    if (gen !== state.gen || epoch !== state.epoch) return;
    const items = new Map();
    for (const n of page.notifications) items.set(n.id, n);
    for (const [kind, data] of state.journal) mutate(items, kind, data);
    Object.assign(state, { items, nextCursor: page.nextCursor, unread: count.count, loaded: true });
  } catch (err) {
    if (err instanceof Stale || gen !== state.gen || epoch !== state.epoch) return;
    logLine('error', 'inbox: ' + err.message, 'error');
  } finally {
    if (gen === state.gen && epoch === state.epoch) {
      state.loading = false;
      state.journal = null;
      render();
    }
  }
}

async function loadMore() {
  if (!state.nextCursor) return;
  const gen = state.gen;
  const epoch = state.epoch;
  ui.loadMore.disabled = true;
  ui.loadMore.textContent = 'Loading…';
  try {
    const page = await inbox('GET', `/api/notifications?limit=${PAGE_SIZE}&cursor=${encodeURIComponent(state.nextCursor)}`);
    if (gen !== state.gen || epoch !== state.epoch) return;
    for (const n of page.notifications) if (!state.items.has(n.id)) state.items.set(n.id, n);
    state.nextCursor = page.nextCursor;
  } catch (err) {
    if (!(err instanceof Stale)) logLine('error', 'load more: ' + err.message, 'error');
  } finally {
    ui.loadMore.disabled = false;
    ui.loadMore.textContent = 'Load more';
    render();
  }
}

async function markRead(id) {
  const n = state.items.get(id);
  if (!n || n.readAt) return;
  state.items.set(id, { ...n, readAt: new Date().toISOString() });
  state.unread = Math.max(0, state.unread - 1);
  render();
  try {
    await inbox('POST', `/api/notifications/${encodeURIComponent(id)}/read`);
  } catch (err) {
    if (err instanceof Stale) return;
    logLine('error', 'mark read: ' + err.message, 'error');
    loadInbox();
  }
}

async function markAllRead() {
  const at = new Date().toISOString();
  for (const [id, n] of state.items) if (!n.readAt) state.items.set(id, { ...n, readAt: at });
  state.unread = 0;
  render();
  try {
    await inbox('POST', '/api/notifications/read-all');
  } catch (err) {
    if (err instanceof Stale) return;
    logLine('error', 'mark all read: ' + err.message, 'error');
    loadInbox();
  }
}

async function remove(id) {
  const n = state.items.get(id);
  if (!n) return;
  // Keep keyboard users in the list: focus the neighbour of the removed row.
  const li = nodes.get(id);
  const next = li && (li.nextElementSibling ?? li.previousElementSibling);
  const hadFocus = li && li.contains(document.activeElement);
  state.items.delete(id);
  if (!n.readAt) state.unread = Math.max(0, state.unread - 1);
  render();
  if (hadFocus) (next ? next.querySelector('.item-body') : ui.inbox).focus();
  try {
    await inbox('DELETE', `/api/notifications/${encodeURIComponent(id)}`);
  } catch (err) {
    if (err instanceof Stale) return;
    logLine('error', 'delete: ' + err.message, 'error');
    loadInbox();
  }
}

// ---------------------------------------------------------------- rendering

const nodes = new Map(); // notification id -> <li>

function render() {
  const sorted = [...state.items.values()].sort(newestFirst);
  for (const [id, li] of nodes) {
    if (!state.items.has(id)) { li.remove(); nodes.delete(id); }
  }
  let prev = null;
  for (const n of sorted) {
    let li = nodes.get(n.id);
    if (!li) { li = buildItem(n); nodes.set(n.id, li); }
    updateItem(li, n);
    const want = prev ? prev.nextElementSibling : ui.list.firstElementChild;
    if (li !== want) ui.list.insertBefore(li, want);
    prev = li;
  }
  const listedUnread = sorted.filter((n) => !n.readAt).length;
  const unread = Math.max(state.unread, 0);
  ui.empty.hidden = sorted.length > 0 || !state.loaded;
  ui.loadMore.hidden = !state.nextCursor;
  ui.markAll.disabled = unread === 0 && listedUnread === 0;
  ui.summary.textContent = !state.loaded && state.loading ? 'Loading…'
    : unread === 0 ? 'No unread notifications'
      : `${unread} unread`;
  ui.badge.hidden = unread === 0;
  ui.badge.textContent = unread > 99 ? '99+' : String(unread);
  ui.bell.setAttribute('aria-label', unread === 0 ? 'No unread notifications' : `${unread} unread notifications`);
  document.title = (unread ? `(${unread}) ` : '') + 'Herald · demo inbox';
}

function buildItem(n) {
  const body = h('button', { type: 'button', class: 'item-body' },
    h('span', { class: 'sr-only item-state' }),
    h('span', { class: 'item-meta' }, chip(n.type), timeEl(n.createdAt)),
    h('span', { class: 'item-title', text: n.title }),
    n.message ? h('span', { class: 'item-message', text: n.message }) : null,
  );
  body.addEventListener('click', () => markRead(n.id));
  const del = h('button', { type: 'button', class: 'icon-btn danger', 'aria-label': `Delete: ${n.title}`, title: 'Delete' }, icon('trash'));
  del.addEventListener('click', () => remove(n.id));
  const href = safeHref(n.link);
  let link = null;
  if (href) {
    link = h('a', { class: 'icon-btn', href, 'aria-label': `Open link: ${n.title}`, title: n.link, rel: 'noopener noreferrer' }, icon('link'));
    link.addEventListener('click', () => markRead(n.id));
  }
  return h('li', { class: 'item', 'data-id': n.id },
    body,
    h('span', { class: 'item-actions' }, link, del));
}

function updateItem(li, n) {
  const unread = !n.readAt;
  li.classList.toggle('unread', unread);
  li.querySelector('.item-state').textContent = unread ? 'Unread: ' : '';
  li.querySelector('.item-body').title = unread ? 'Mark as read' : '';
}

function tickClock() {
  for (const t of document.querySelectorAll('time[datetime]')) t.textContent = relativeTime(t.getAttribute('datetime'));
}

// ---------------------------------------------------------------- toasts

function toast(n) {
  const close = h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Dismiss' }, icon('x'));
  const read = h('button', { type: 'button', class: 'btn btn-ghost btn-small', text: 'Mark read' });
  // The live region reads a new toast in DOM order: what it is first, the buttons last.
  const t = h('div', { class: 'toast', role: 'group', 'aria-label': 'New notification' },
    h('div', { class: 'toast-head' }, chip(n.type), h('span', { class: 'toast-when', text: 'just now' })),
    h('p', { class: 'toast-title', text: n.title }),
    n.message ? h('p', { class: 'toast-message', text: n.message }) : null,
    h('div', { class: 'toast-actions' }, read, close));
  let timer = 0;
  const dismiss = () => {
    clearTimeout(timer);
    if (t.contains(document.activeElement)) ui.inbox.focus({ preventScroll: true });
    t.classList.add('leaving');
    setTimeout(() => t.remove(), 200);
  };
  const arm = () => { clearTimeout(timer); timer = setTimeout(dismiss, TOAST_MS); };
  close.addEventListener('click', dismiss);
  read.addEventListener('click', () => { markRead(n.id); dismiss(); });
  // Pause while the pointer or focus is on the toast, so it can be read and used.
  t.addEventListener('mouseenter', () => clearTimeout(timer));
  t.addEventListener('mouseleave', arm);
  t.addEventListener('focusin', () => clearTimeout(timer));
  t.addEventListener('focusout', (e) => { if (!t.contains(e.relatedTarget)) arm(); });
  ui.toasts.append(t);
  while (ui.toasts.children.length > MAX_TOASTS) ui.toasts.firstElementChild.remove();
  arm();
}

function clearToasts() {
  ui.toasts.replaceChildren();
}

// ---------------------------------------------------------------- event log

function logLine(name, detail, kind = '') {
  const now = new Date();
  const li = h('li', { class: 'log-line' + (kind ? ' ' + kind : '') },
    h('time', { datetime: now.toISOString(), text: now.toLocaleTimeString(undefined, { hour12: false }) }),
    h('span', { class: 'log-name', text: name }),
    h('span', { class: 'log-detail', text: detail.length > 200 ? detail.slice(0, 200) + '…' : detail }));
  ui.log.prepend(li);
  while (ui.log.children.length > LOG_MAX) ui.log.lastElementChild.remove();
}

function parseWatch(text) {
  const names = text.split(/[\s,]+/).filter((s) => EVENT_NAME.test(s) && !RESERVED.has(s.toLowerCase()) && !s.toLowerCase().startsWith('notification.'));
  return [...new Set(names)];
}

// ---------------------------------------------------------------- send form

const EXAMPLES = [
  ['comment', 'New comment on your post', 'Ann replied: “Looks great, ship it!”'],
  ['mention', 'Bo mentioned you in #release', '@you can you double-check the changelog before 5pm?'],
  ['deploy.done', 'Deploy finished', 'api v2.14.0 is live in eu-west-1 (3m 12s).'],
  ['billing', 'Invoice #1043 is ready', 'Your March invoice of €48.00 is available.'],
  ['security', 'New sign-in from Firefox on Linux', 'If this wasn’t you, change your password.'],
  ['follow', 'Cleo started following you', ''],
];
let exampleIndex = 0;

async function send(e) {
  e.preventDefault();
  const type = ui.sendType.value.trim();
  const title = ui.sendTitle.value.trim();
  const message = ui.sendMessage.value;
  const broadcast = ui.sendForm.elements.audience.value === 'broadcast';
  const body = { type, title };
  if (message.trim()) body.message = message;
  const fail = (text, field) => {
    ui.sendStatus.dataset.kind = 'error';
    ui.sendStatus.textContent = text;
    field?.focus();
  };
  if (broadcast) {
    body.broadcast = true;
  } else {
    const ids = [...new Set(ui.sendUsers.value.split(',').map((s) => s.trim()).filter(Boolean))];
    if (ids.length === 0) return fail('Enter at least one user id.', ui.sendUsers);
    if (ids.length === 1) body.userId = ids[0]; else body.userIds = ids;
  }
  if (!/^[a-z0-9._-]{1,64}$/.test(type)) return fail('Type: use 1 to 64 of a–z, 0–9, “.”, “_”, “-”.', ui.sendType);
  if (!title) return fail('Title is required.', ui.sendTitle);
  if (!state.publisherKey) return fail('Not signed in yet.');
  const button = ui.sendForm.querySelector('button[type=submit]');
  button.disabled = true;
  ui.sendStatus.dataset.kind = '';
  ui.sendStatus.textContent = 'Sending…';
  try {
    const res = await request('POST', '/api/publish/notifications', state.publisherKey, body);
    const list = res?.notifications ?? [];
    ui.sendStatus.dataset.kind = 'ok';
    ui.sendStatus.textContent = list.some((r) => r.broadcast) ? 'Sent to everyone.'
      : `Sent to ${list.length} user${list.length === 1 ? '' : 's'}.`;
  } catch (err) {
    fail(err.message);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- wiring

function start() {
  state.watch = parseWatch(load(STORE_WATCH, ui.watch.value));
  ui.watch.value = state.watch.join(', ');

  ui.userForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const id = ui.userId.value.trim();
    if (!id) { ui.userError.textContent = 'Enter a user id.'; ui.userId.focus(); return; }
    if (id !== state.userId || !state.token) switchUser(id);
  });
  ui.bell.addEventListener('click', () => {
    ui.inbox.scrollIntoView({ behavior: 'smooth', block: 'start' });
    ui.inbox.focus({ preventScroll: true });
  });
  ui.markAll.addEventListener('click', markAllRead);
  ui.loadMore.addEventListener('click', loadMore);
  ui.sendForm.addEventListener('submit', send);
  ui.sendForm.addEventListener('change', () => {
    ui.sendUsers.disabled = ui.sendForm.elements.audience.value === 'broadcast';
  });
  ui.sendExample.addEventListener('click', () => {
    exampleIndex = (exampleIndex + 1) % EXAMPLES.length;
    [ui.sendType.value, ui.sendTitle.value, ui.sendMessage.value] = EXAMPLES[exampleIndex];
    ui.sendStatus.textContent = '';
  });
  ui.watch.addEventListener('change', () => {
    state.watch = parseWatch(ui.watch.value);
    ui.watch.value = state.watch.join(', ');
    save(STORE_WATCH, ui.watch.value);
    if (state.es && state.on) watchNames(state.es, state.on);
  });
  ui.logClear.addEventListener('click', () => ui.log.replaceChildren());
  // Back online: do not wait for the rest of the backoff.
  window.addEventListener('online', () => {
    if (state.retryTimer) {
      clearTimeout(state.retryTimer);
      connect(state.gen);
    }
  });
  setInterval(tickClock, CLOCK_MS);

  switchUser(load(STORE_USER, '').trim() || ui.userId.value.trim() || 'u1');
}

start();
