import { describe, expect, it } from 'vitest';
import { SSEParser, type SSEMessage } from '../src/sse';

function parse(chunks: string[], last = '') {
  const out: SSEMessage[] = [];
  const retries: number[] = [];
  const comments: string[] = [];
  const p = new SSEParser(
    { onMessage: (m) => out.push(m), onRetry: (r) => retries.push(r), onComment: (c) => comments.push(c) },
    last,
  );
  for (const c of chunks) p.feed(c);
  return { out, retries, comments, p };
}

describe('SSEParser', () => {
  it('parses events with names, ids, multi-line data and comments', () => {
    const { out, retries, comments } = parse([
      'retry: 1500\n: ping\n\nevent: connected\ndata: {"a":1}\n\nid: 7\nevent: notification\ndata: line1\ndata: line2\n\n',
    ]);
    expect(retries).toEqual([1500]);
    expect(comments).toEqual(['ping']);
    expect(out).toEqual([
      { event: 'connected', data: '{"a":1}', id: undefined, lastEventId: '' },
      { event: 'notification', data: 'line1\nline2', id: '7', lastEventId: '7' },
    ]);
  });

  it('handles CR, LF and CRLF, also split across chunks, and a BOM', () => {
    const text = '\ufeffdata: a\r\n\r\ndata: b\r\rdata: c\n\n';
    const whole = parse([text]).out.map((m) => m.data);
    expect(whole).toEqual(['a', 'b', 'c']);
    for (let i = 1; i < text.length; i++) {
      const split = parse([text.slice(0, i), text.slice(i)]).out.map((m) => m.data);
      expect(split, `split at ${i}`).toEqual(['a', 'b', 'c']);
    }
    const bytewise = parse([...text]).out.map((m) => m.data);
    expect(bytewise).toEqual(['a', 'b', 'c']);
  });

  it('follows the standard on edge cases', () => {
    const { out, retries } = parse([
      'data\n\n', // field without colon: empty data line
      'data:no-space\n\n',
      'data:  two-spaces\n\n',
      'event: x\n\n', // no data: not dispatched, event name reset
      'data: y\n\n',
      'id: a\0b\ndata: nul-id-ignored\n\n',
      'retry: 12x\nretry: 30\n',
      'unknown: z\ndata: ok\n\n',
      'data: unterminated',
    ]);
    expect(out.map((m) => [m.event, m.data])).toEqual([
      ['message', ''],
      ['message', 'no-space'],
      ['message', ' two-spaces'],
      ['message', 'y'],
      ['message', 'nul-id-ignored'],
      ['message', 'ok'],
    ]);
    expect(out[4].id).toBeUndefined();
    expect(retries).toEqual([30]);
  });

  it('keeps the last event id across events and seeds it', () => {
    const { out, p } = parse(['data: a\n\nid: 9\ndata: b\n\ndata: c\n\nid:\ndata: d\n\n'], '5');
    expect(out.map((m) => m.lastEventId)).toEqual(['5', '9', '9', '']);
    expect(out.map((m) => m.id)).toEqual([undefined, '9', undefined, '']);
    expect(p.lastEventId).toBe('');
  });

  it('drops an event cut off by the end of the stream', () => {
    const { out, p } = parse(['data: a\n']);
    p.end();
    p.feed('\n');
    expect(out).toEqual([]);
  });
});
