/**
 * @herald-notify/client — the browser client of Herald.
 *
 * createHerald() opens one stream per browser (tabs elect a leader that
 * relays events), resumes after reloads and outages, and keeps an inbox in
 * sync. The React bindings are in "@herald-notify/client/react".
 */
export { Herald, createHerald, type HeraldOptions, type EventHandler } from './client.js';
export { API, type APIOptions, type TokenSource, jwtExpiry } from './api.js';
export { Inbox, inboxReducer, eventAction, initialInbox, type InboxState, type InboxAction } from './inbox.js';
export { Stream, browserEnv, type StreamOptions, type StreamStatus, type StreamEnv } from './stream.js';
export { SSEParser, type SSEMessage, type SSEHandlers } from './sse.js';
export { backoffDelay, parseRetryAfter, retryDelay, type BackoffOptions } from './backoff.js';
export {
  ChannelElector,
  LockElector,
  SoloElector,
  createElector,
  type Elector,
  type ElectionHandlers,
  type ChannelLike,
  type LockManagerLike,
} from './leader.js';
export { TabRelay, type RelayOptions } from './tabs.js';
export {
  HeraldError,
  type Notification,
  type ConnectedInfo,
  type ConnectionState,
  type HeraldEvent,
  type InboxPage,
  type ReadChange,
} from './types.js';
