/** Wire types of the Herald API (SPEC sections 3 to 5). */

/** A notification as clients see it. Times are RFC 3339. */
export interface Notification {
  id: string;
  type: string;
  title: string;
  message?: string;
  data?: Record<string, unknown> | null;
  link?: string;
  createdAt: string;
  /** null while unread. */
  readAt: string | null;
}

/** Data of the connected event. */
export interface ConnectedInfo {
  clientId: string;
  userId: string;
}

/** Data of notification.read: some ids, or all. */
export type ReadChange = { ids: string[]; all?: undefined } | { all: true; ids?: undefined };

/**
 * HeraldEvent is one event of the stream, decoded. data is the parsed JSON
 * (the raw text when it is not JSON). id is set on durable events.
 */
export interface HeraldEvent<T = unknown> {
  event: string;
  data: T;
  id?: string;
}

/** A page of the inbox, newest first. */
export interface InboxPage {
  notifications: Notification[];
  nextCursor: string | null;
}

/** The state of the stream as the application sees it. */
export type ConnectionState =
  | 'idle' // not started, or closed
  | 'connecting'
  | 'open'
  | 'waiting' // between attempts (backoff, Retry-After, offline)
  | 'follower'; // another tab holds the stream; events are relayed

/** HeraldError is a non-2xx answer of the Herald API. */
export class HeraldError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Retry-After in ms, when the answer had one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'HeraldError';
  }
}
