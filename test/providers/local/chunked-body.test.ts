// The chunked-body decoder (chunked-body.ts) under the two sets of rules its callers give it:
// a client's request (strict, llhttp's HPE_* refusals; http1-intake.ts) and a backend's
// response (lenient, trailers kept; upstream-http1.ts). Bytes are fed as a socket would, whole
// and one byte at a time, with the caller's keep-the-rest loop.
import { describe, expect, it } from 'vitest';
import { ChunkedBody, NEED_MORE, type ChunkedBodyRules } from '../../../src/providers/local/chunked-body.js';
import { MAX_HEAD as REQUEST_MAX, REQUEST_CHUNKS } from '../../../src/providers/local/http1-intake.js';
import { RESPONSE_CHUNKS, UpstreamProtocolError } from '../../../src/providers/local/upstream-http1.js';

interface Decoded {
  body: string;
  trailers: string[] | undefined;
  /** The bytes after the body, left for the next message. */
  rest: string;
}

/** Decodes `wire` fed in segments of `step` bytes (0: all at once); undefined while the body is incomplete. */
function decode(rules: ChunkedBodyRules, wire: string, step = 0): Decoded | undefined {
  const body = new ChunkedBody(rules);
  const pieces: Buffer[] = [];
  const all = Buffer.from(wire, 'latin1');
  let pending: Buffer | undefined;
  for (let from = 0; from < all.length; from += step || all.length) {
    const segment = all.subarray(from, step ? from + step : all.length);
    const buf: Buffer = pending ? Buffer.concat([pending, segment]) : segment;
    pending = undefined;
    let at = 0;
    while (at < buf.length) {
      const next = body.read(buf, at, (p) => pieces.push(Buffer.from(p)));
      if (next === NEED_MORE) {
        pending = Buffer.from(buf.subarray(at));
        break;
      }
      at = next;
      if (body.done) return { body: Buffer.concat(pieces).toString('latin1'), trailers: body.trailers, rest: Buffer.concat([buf.subarray(at), all.subarray(from + segment.length)]).toString('latin1') };
    }
  }
  return undefined;
}

const both = [
  ['request (strict)', REQUEST_CHUNKS],
  ['response (lenient)', RESPONSE_CHUNKS],
] as const;

describe('chunked body, both rule sets', () => {
  for (const [name, rules] of both) {
    it(`${name}: reads chunks with extensions and trailers, whole or one byte at a time, and leaves what follows`, () => {
      const wire = '5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: abc\r\nX-Sum: def\r\n\r\nGET /next';
      for (const step of [0, 1, 3]) {
        const d = decode(rules, wire, step);
        expect(d, `step ${step}`).toEqual({
          body: 'hello world',
          trailers: rules.keepTrailers ? ['X-Sum', 'abc', 'X-Sum', 'def'] : undefined,
          rest: 'GET /next',
        });
      }
    });

    it(`${name}: waits for the rest of an incomplete body`, () => {
      expect(decode(rules, '5\r\nhel')).toBeUndefined();
      expect(decode(rules, '5\r\nhello\r\n0\r\n')).toBeUndefined();
    });

    // Refused by llhttp too (HPE_INVALID_CHUNK_SIZE, HPE_STRICT, HPE_CR_EXPECTED), and by both rule sets.
    for (const [what, wire] of [
      ['a size that overflows', 'fffffffffffffffffff\r\nx\r\n0\r\n\r\n'],
      ['a size that is not hex', 'x1\r\nx\r\n0\r\n\r\n'],
      ['chunk data not followed by CRLF', '1\r\nxy\r\n0\r\n\r\n'],
      ['LF alone after a size', '1\nx\r\n0\r\n\r\n'],
      ['a trailer line without a colon', '0\r\nX-Sum\r\n\r\n'],
    ] as const) {
      it(`${name}: refuses ${what}`, () => {
        expect(() => decode(rules, wire)).toThrow();
        expect(() => decode(rules, wire, 1)).toThrow();
      });
    }

    it(`${name}: refuses a line longer than ${rules.maxLine} bytes without waiting for its end`, () => {
      expect(() => decode(rules, `1;${'e'.repeat(rules.maxLine)}`)).toThrow(/line too long/);
      expect(() => decode(rules, `0\r\nX-Long: ${'v'.repeat(rules.maxLine)}`)).toThrow(/line too long/);
    });
  }

  it('a response is refused with UpstreamProtocolError, saying what it read', () => {
    expect(() => decode(RESPONSE_CHUNKS, 'zz\r\n')).toThrow(UpstreamProtocolError);
    expect(() => decode(RESPONSE_CHUNKS, 'zz\r\n')).toThrow('bad chunk size "zz"');
  });
});

describe('chunked body, strict (a request) against lenient (a response)', () => {
  // A request may not carry whitespace around a chunk size (llhttp: HPE_INVALID_CHUNK_SIZE) or control characters in an extension; a backend's response is read with them, as it always was.
  for (const [what, wire] of [
    ['a space after the size', '1 \r\nx\r\n0\r\n\r\n'],
    ['a tab before the size', '\t1\r\nx\r\n0\r\n\r\n'],
    ['a control character in an extension', '1;a=\x01\r\nx\r\n0\r\n\r\n'],
  ] as const) {
    it(`${what}: refused in a request, read in a response`, () => {
      expect(() => decode(REQUEST_CHUNKS, wire)).toThrow('bad chunk size');
      expect(decode(RESPONSE_CHUNKS, wire)).toEqual({ body: 'x', trailers: undefined, rest: '' });
    });
  }

  it('a trailer name that is not a token (space before the colon): refused in a request, kept in a response', () => {
    const wire = '0\r\nX-Sum : 1\r\n\r\n';
    expect(() => decode(REQUEST_CHUNKS, wire)).toThrow('bad trailer line');
    expect(decode(RESPONSE_CHUNKS, wire)?.trailers).toEqual(['X-Sum ', '1']);
  });

  it(`trailers over ${REQUEST_MAX} bytes in all: refused in a request, kept in a response`, () => {
    const line = `X-T: ${'v'.repeat(1000)}\r\n`;
    const wire = `0\r\n${line.repeat(Math.ceil(REQUEST_MAX / line.length) + 1)}\r\n`;
    expect(() => decode(REQUEST_CHUNKS, wire)).toThrow('trailers too large');
    expect(decode(RESPONSE_CHUNKS, wire)?.trailers).toHaveLength(2 * (Math.ceil(REQUEST_MAX / line.length) + 1));
  });
});
