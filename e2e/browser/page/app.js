// The test page: an inbox, a badge and toasts on the Herald client. Tokens
// come from window.heraldToken, a function the test exposes (it mints
// short-lived tokens in Node). Everything the test checks is in the DOM or
// in window.__herald.
import { createHerald } from './herald.min.js';

const user = new URLSearchParams(location.search).get('user');
const $ = (id) => document.getElementById(id);
const toasts = [];
window.__herald = { toasts, loadedAt: Date.now(), tokens: 0 };

const client = createHerald({
  getToken: async ({ forceRefresh }) => {
    window.__herald.tokens++;
    return window.heraldToken(user, forceRefresh);
  },
  backoff: { baseMs: 500, maxMs: 4000 },
});
window.__herald.client = client;

client.onNotification((n) => {
  toasts.push({ id: n.id, title: n.title, at: Date.now() });
  const el = document.createElement('div');
  el.className = 'toast';
  el.dataset.id = n.id;
  el.textContent = n.title;
  $('toasts').append(el);
});

client.onState((s) => {
  $('state').textContent = s;
  $('leader').textContent = client.leading ? 'yes' : 'no';
});

$('mark-all').addEventListener('click', () => client.inbox.markAllRead());

function render() {
  const s = client.inbox.getSnapshot();
  $('unread').textContent = String(s.unreadCount);
  const items = s.notifications.map((n) => {
    const li = document.createElement('li');
    li.dataset.id = n.id;
    li.dataset.read = String(n.readAt !== null);
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = 'Mark read';
    b.className = 'mark-read';
    b.disabled = n.readAt !== null;
    b.addEventListener('click', () => client.inbox.markRead(n.id));
    li.append(n.title + ' ', b);
    return li;
  });
  $('list').replaceChildren(...items);
}
client.inbox.subscribe(render);
render();
