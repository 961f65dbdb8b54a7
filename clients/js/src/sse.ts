/**
 * An incremental parser of the text/event-stream format, as the HTML
 * standard defines it (section 9.2.6): lines end with CR, LF or CRLF (also
 * when split across chunks), a leading BOM is dropped, comment lines start
 * with ":", and a blank line dispatches the event being built.
 *
 * The parser is fed decoded text (use a streaming TextDecoder) and calls back
 * synchronously; it holds no timers and does no I/O.
 */

/** One dispatched event. */
export interface SSEMessage {
  /** The event name; "message" when the block had no event field. */
  event: string;
  /** The data lines joined with "\n". */
  data: string;
  /** The id field of this block, undefined when it had none. */
  id: string | undefined;
  /** The stream's last event id after this event (the id of the last block that set one). */
  lastEventId: string;
}

/** Callbacks of a parser. */
export interface SSEHandlers {
  onMessage(message: SSEMessage): void;
  /** A valid retry field: the reconnection time the server asks for, in ms. */
  onRetry?(ms: number): void;
  /** A comment line (keep-alive pings), without the leading colon. */
  onComment?(text: string): void;
}

/** SSEParser parses one stream. Not safe to share between streams. */
export class SSEParser {
  private buf = '';
  private started = false;
  private skipLF = false;
  private data: string[] = [];
  private hasData = false;
  private event = '';
  private blockId: string | undefined;
  private lastId: string;

  /** lastEventId seeds the last event id (the one the stream resumed from). */
  constructor(private readonly handlers: SSEHandlers, lastEventId = '') {
    this.lastId = lastEventId;
  }

  /** The last event id seen so far. */
  get lastEventId(): string {
    return this.lastId;
  }

  /** feed parses the next piece of the stream. */
  feed(chunk: string): void {
    if (chunk === '') return;
    let text = chunk;
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.skipLF) {
      this.skipLF = false;
      if (text.charCodeAt(0) === 10) text = text.slice(1);
    }
    const buf = this.buf + text;
    let start = 0;
    for (;;) {
      const cr = buf.indexOf('\r', start);
      const lf = buf.indexOf('\n', start);
      if (cr < 0 && lf < 0) break;
      let end: number;
      let next: number;
      if (cr >= 0 && (lf < 0 || cr < lf)) {
        end = cr;
        if (cr + 1 < buf.length) {
          next = buf.charCodeAt(cr + 1) === 10 ? cr + 2 : cr + 1;
        } else {
          next = cr + 1;
          this.skipLF = true; // a CRLF may be split across chunks
        }
      } else {
        end = lf;
        next = lf + 1;
      }
      this.line(buf.slice(start, end));
      start = next;
    }
    this.buf = buf.slice(start);
  }

  /**
   * end tells the parser the stream ended. An event without its terminating
   * blank line is discarded, as the standard requires.
   */
  end(): void {
    this.buf = '';
    this.resetBlock();
  }

  private line(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) {
      this.handlers.onComment?.(line.slice(1).trimStart());
      return;
    }
    const colon = line.indexOf(':');
    let field = line;
    let value = '';
    if (colon >= 0) {
      field = line.slice(0, colon);
      value = line.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
    }
    switch (field) {
      case 'event':
        this.event = value;
        break;
      case 'data':
        this.data.push(value);
        this.hasData = true;
        break;
      case 'id':
        if (!value.includes('\0')) {
          this.lastId = value;
          this.blockId = value;
        }
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.handlers.onRetry?.(Number(value));
        break;
      default:
      // unknown fields are ignored
    }
  }

  private dispatch(): void {
    if (!this.hasData) {
      this.resetBlock();
      return;
    }
    const msg: SSEMessage = {
      event: this.event || 'message',
      data: this.data.join('\n'),
      id: this.blockId,
      lastEventId: this.lastId,
    };
    this.resetBlock();
    this.handlers.onMessage(msg);
  }

  private resetBlock(): void {
    this.data = [];
    this.hasData = false;
    this.event = '';
    this.blockId = undefined;
  }
}
