import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sseMessages, type SseMessage } from '../../src/client/sse.ts';

async function parse(chunks: string[]): Promise<SseMessage[]> {
  const out: SseMessage[] = [];
  for await (const m of sseMessages(
    (async function* () {
      yield* chunks;
    })(),
  )) {
    out.push(m);
  }
  return out;
}

describe('sseMessages', () => {
  const cases: [string, string[], SseMessage[]][] = [
    ['one event', ['event: hello\ndata: {"at":1}\n\n'], [{ event: 'hello', data: '{"at":1}' }]],
    ['no event name: message', ['data: x\n\n'], [{ event: 'message', data: 'x' }]],
    [
      'data lines joined by newlines',
      ['data: a\ndata: b\n\n'],
      [{ event: 'message', data: 'a\nb' }],
    ],
    [
      'a CRLF split across chunks',
      ['event: e\r', '\ndata: 1\r\n\r', '\n'],
      [{ event: 'e', data: '1' }],
    ],
    ['CR line ends', ['event: e\rdata: 1\r\r'], [{ event: 'e', data: '1' }]],
    [
      'a line split across chunks',
      ['da', 'ta: {"a"', ':1}\n', '\n'],
      [{ event: 'message', data: '{"a":1}' }],
    ],
    [
      'comments (keep-alives) ignored',
      [': ping\n\ndata: y\n\n'],
      [{ event: 'message', data: 'y' }],
    ],
    ['no space after the colon', ['data:z\n\n'], [{ event: 'message', data: 'z' }]],
    ['an id is kept', ['id: 7\ndata: q\n\n'], [{ event: 'message', data: 'q', id: '7' }]],
    ['an event without data is not dispatched', ['event: e\n\n'], []],
    ['an unterminated last event is dropped', ['data: cut'], []],
    [
      'the event name resets after each',
      ['event: a\ndata: 1\n\ndata: 2\n\n'],
      [
        { event: 'a', data: '1' },
        { event: 'message', data: '2' },
      ],
    ],
  ];
  for (const [name, chunks, expected] of cases) {
    it(name, async () => assert.deepEqual(await parse(chunks), expected));
  }
});
