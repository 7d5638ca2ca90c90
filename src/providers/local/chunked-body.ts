// A chunked message body (RFC 9112 7.1) decoded as it comes off a socket, for both ends of the
// L7 proxy's own HTTP/1.1: the listener's request intake (http1-intake.ts) and its client to
// backends (upstream-http1.ts). One decoder, two sets of rules:
// - strict, for a client's request: llhttp's rules, since a body llhttp would refuse must not
//   reach a backend framed as something else (request smuggling): no whitespace around the
//   size (HPE_INVALID_CHUNK_SIZE), no control characters in an extension, trailer lines
//   checked as header lines and, all together, no longer than a head may be;
// - lenient, for a backend's response, read as the proxy's client always read it: whitespace
//   around the size and any extension taken, trailer lines need only a name and a colon.
// Either way a chunk's data must end in CRLF, and a line longer than `maxLine` is refused
// rather than buffered without end.
//
// The decoder reads one step at a time (a size line, a run of data, a CRLF, a trailer line) so
// that its caller's loop can stop between two runs of data the moment its consumer gives up.

export interface ChunkedBodyRules {
  /** llhttp's rules (a client's request) rather than the lenient ones (a backend's response). */
  readonly strict: boolean;
  /** The longest chunk-size or trailer line; strict, also the most trailer bytes in all. */
  readonly maxLine: number;
  /** Splits a trailer field line into name and value; undefined refuses the line. */
  readonly field: (line: string) => readonly [string, string] | undefined;
  /** Where trailers go: kept in `trailers` (as rawHeaders), or read, checked and dropped. */
  readonly keepTrailers: boolean;
  /** The error a malformed body throws. */
  readonly error: (message: string) => Error;
}

/** What read() returns when the line at the offset is not all there yet: keep the bytes from there and call again with more. */
export const NEED_MORE = -1;

const CRLF = Buffer.from('\r\n');
const HEX = /^[0-9a-fA-F]{1,12}$/;
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

type Phase = 'size' | 'data' | 'crlf' | 'trailers' | 'done';

export class ChunkedBody {
  private phase: Phase = 'size';
  private remaining = 0;
  private trailerBytes = 0;
  /** The trailer fields as [name, value, ...], when they are kept and there were some. */
  trailers: string[] | undefined;

  constructor(private readonly rules: ChunkedBodyRules) {}

  /** The last chunk and the trailers after it have been read. */
  get done(): boolean {
    return this.phase === 'done';
  }

  /**
   * Reads one step from buf at `at` (a chunk's data goes to `data`, a zero-length run never)
   * and returns the offset read to, or NEED_MORE. Throws rules.error on a malformed body.
   */
  read(buf: Buffer, at: number, data: (piece: Buffer) => void): number {
    switch (this.phase) {
      case 'size': {
        const eol = this.lineEnd(buf, at);
        if (eol < 0) return NEED_MORE;
        const line = buf.toString('latin1', at, eol);
        const semi = line.indexOf(';');
        const size = semi < 0 ? line : line.slice(0, semi);
        const hex = this.rules.strict ? size : size.trim();
        if (!HEX.test(hex) || (this.rules.strict && semi >= 0 && BAD_VALUE.test(line.slice(semi)))) {
          throw this.rules.error(`bad chunk size ${JSON.stringify(line.slice(0, 40))}`);
        }
        this.remaining = parseInt(hex, 16);
        this.phase = this.remaining === 0 ? 'trailers' : 'data';
        return eol + 2;
      }
      case 'data': {
        const n = Math.min(this.remaining, buf.length - at);
        this.remaining -= n;
        if (n > 0) data(buf.subarray(at, at + n));
        if (this.remaining === 0) this.phase = 'crlf';
        return at + n;
      }
      case 'crlf':
        if (buf.length - at < 2) return NEED_MORE;
        if (buf[at] !== 13 || buf[at + 1] !== 10) throw this.rules.error('chunk not followed by CRLF');
        this.phase = 'size';
        return at + 2;
      case 'trailers': {
        const eol = this.lineEnd(buf, at);
        if (eol < 0) return NEED_MORE;
        const line = buf.toString('latin1', at, eol);
        this.trailerBytes += eol + 2 - at;
        if (this.rules.strict && this.trailerBytes > this.rules.maxLine) throw this.rules.error('trailers too large');
        if (line === '') {
          this.phase = 'done';
          return eol + 2;
        }
        const field = this.rules.field(line);
        if (!field) throw this.rules.error(`bad trailer line ${JSON.stringify(line.slice(0, 80))}`);
        if (this.rules.keepTrailers) (this.trailers ??= []).push(field[0], field[1]);
        return eol + 2;
      }
      case 'done':
        return at;
    }
  }

  /** Where the line at `at` ends (its CR), or -1 while it is incomplete and not yet too long. */
  private lineEnd(buf: Buffer, at: number): number {
    const eol = buf.indexOf(CRLF, at);
    if (eol < 0 && buf.length - at > this.rules.maxLine) throw this.rules.error('chunk or trailer line too long');
    return eol;
  }
}
