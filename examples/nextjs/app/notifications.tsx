'use client';
// The notification UI: a bell with the unread count, the inbox list with
// mark-read actions, and a live status line and toast driven by useSSE with
// the original hook's signature. All of them read the HeraldProvider above.
import { useEffect, useState } from 'react';
import { useNotifications, useSSE, useUnreadCount } from '@herald-notify/client/react';

export function Bell() {
  const unread = useUnreadCount();
  return (
    <span role="status" aria-label={`Notifications, ${unread} unread`}>
      🔔 <span className="badge" data-testid="unread-count">{unread}</span>
    </span>
  );
}

export function Inbox() {
  const { notifications, loaded, hasMore, loadMore, markRead, markAllRead } = useNotifications();
  return (
    <>
      <header>
        <h2>Notifications</h2>
        <button onClick={() => markAllRead()}>Mark all read</button>
      </header>
      {loaded && notifications.length === 0 && <p className="muted">Nothing yet.</p>}
      <ul data-testid="inbox">
        {notifications.map((n) => (
          <li key={n.id} data-read={n.readAt !== null}>
            <span>
              <strong>{n.title}</strong>
              {n.message && <span className="muted"> — {n.message}</span>}
            </span>
            {n.readAt === null && <button onClick={() => markRead(n.id)}>Mark read</button>}
          </li>
        ))}
      </ul>
      {hasMore && <button onClick={() => loadMore()}>More</button>}
    </>
  );
}

/** LiveStatus uses useSSE exactly as the original hook was used. */
export function LiveStatus() {
  const [who, setWho] = useState<string | null>(null);
  const [toast, setToast] = useState<string | null>(null);
  const { connected, error } = useSSE({
    onNotification: (n) => setToast(n.title),
    onConnected: (info) => setWho(info.userId),
    onError: (err) => console.warn('herald:', err),
  });
  useEffect(() => {
    if (!toast) return;
    const t = setTimeout(() => setToast(null), 4000);
    return () => clearTimeout(t);
  }, [toast]);
  return (
    <>
      <p className="muted" data-testid="live">
        {connected ? `Live as ${who ?? '…'}` : error ? `Reconnecting: ${error.message}` : 'Connecting…'}
      </p>
      <div aria-live="polite">{toast && <div className="toast">{toast}</div>}</div>
    </>
  );
}
