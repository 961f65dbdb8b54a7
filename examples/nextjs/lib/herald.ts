// Publishing to Herald from server code. The publisher key stays on the
// server: this module cannot be imported by a client component.
import 'server-only';

export interface Publication {
  userId?: string;
  userIds?: string[];
  broadcast?: true;
  type: string;
  title: string;
  message?: string;
  link?: string;
  data?: Record<string, unknown>;
  idempotencyKey?: string;
  collapseKey?: string;
}

/**
 * notify publishes one notification through Herald's publish API and returns
 * the ids Herald assigned (one per recipient). It throws unless Herald
 * answers 202 (stored; delivered to open streams within milliseconds).
 */
export async function notify(input: Publication) {
  const res = await fetch(`${process.env.HERALD_URL}/api/publish/notifications`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${process.env.HERALD_PUBLISHER_KEY}`,
      'Content-Type': 'application/json',
    },
    body: JSON.stringify(input),
    cache: 'no-store',
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status !== 202) throw new Error(`herald publish: ${res.status} ${await res.text()}`);
  return (await res.json()) as { notifications: { id: string; userId?: string }[] };
}
