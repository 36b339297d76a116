/**
 * Framing: every message is a 4-byte big-endian header length, a UTF-8 JSON header of at most
 * MAX_HEADER_BYTES, and, when the header says `body: n`, exactly n raw bytes. Bodies are never
 * buffered whole: the reader hands them out chunk by chunk as the socket delivers them, and the
 * socket is only read again when the consumer asks for more (backpressure).
 */
import { FexError } from './errors.js';
import { LENGTH_PREFIX_BYTES, MAX_HEADER_BYTES, type Header } from './constants.js';

export function encodeHeader(header: Header): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  if (json.length > MAX_HEADER_BYTES)
    throw new FexError('E_BAD_FRAME', { reason: `header of ${json.length} bytes is too large` });
  const frame = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES + json.length);
  frame.writeUInt32BE(json.length, 0);
  json.copy(frame, LENGTH_PREFIX_BYTES);
  return frame;
}

function badFrame(reason: string): FexError {
  return new FexError('E_BAD_FRAME', { reason });
}

/** Checks what every header must satisfy, whatever its type. */
export function parseHeader(bytes: Buffer): Header {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw badFrame('header is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw badFrame('header is not a JSON object');
  const header = value as Record<string, unknown>;
  if (typeof header.type !== 'string' || header.type.length === 0 || header.type.length > 64)
    throw badFrame('header has no valid "type"');
  for (const field of ['id', 'body'] as const) {
    const v = header[field];
    if (v !== undefined && !(typeof v === 'number' && Number.isSafeInteger(v) && v >= 0))
      throw badFrame(`"${field}" must be a non-negative integer`);
  }
  return header as Header;
}

export interface FrameReaderOptions {
  maxHeaderBytes?: number;
}

/**
 * Reads frames from a stream of chunks. After a frame with a body, the caller either consumes
 * `body()` to the end or lets the next `next()` skip what it left.
 */
export class FrameReader {
  private readonly source: AsyncIterator<Buffer>;
  private readonly maxHeaderBytes: number;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  /** Bytes of the current frame's body not yet handed out. */
  private bodyLeft = 0;

  constructor(source: AsyncIterable<Buffer>, options: FrameReaderOptions = {}) {
    this.source = source[Symbol.asyncIterator]();
    this.maxHeaderBytes = options.maxHeaderBytes ?? MAX_HEADER_BYTES;
  }

  /** The next frame's header, or null at a clean end of stream between frames. */
  async next(): Promise<Header | null> {
    if (this.bodyLeft > 0) await this.skipBody();
    if (!(await this.fill(LENGTH_PREFIX_BYTES))) {
      if (this.buffered === 0) return null;
      throw new FexError('CONNECTION_LOST', { during: ' in the middle of a message' });
    }
    const length = this.take(LENGTH_PREFIX_BYTES).readUInt32BE(0);
    if (length === 0 || length > this.maxHeaderBytes)
      throw badFrame(`header length ${length} is outside 1..${this.maxHeaderBytes}`);
    if (!(await this.fill(length)))
      throw new FexError('CONNECTION_LOST', { during: ' in the middle of a message' });
    const header = parseHeader(this.take(length));
    this.bodyLeft = header.body ?? 0;
    return header;
  }

  /** The body of the frame just read, in the chunks the stream delivered. */
  async *body(): AsyncGenerator<Buffer, void, undefined> {
    while (this.bodyLeft > 0) {
      if (this.buffered === 0 && !(await this.pull()))
        throw new FexError('CONNECTION_LOST', { during: ' during a transfer' });
      const chunk = this.takeUpTo(this.bodyLeft);
      this.bodyLeft -= chunk.length;
      yield chunk;
    }
  }

  /** Reads and discards the rest of the current body, e.g. after refusing a transfer. */
  async skipBody(): Promise<void> {
    for await (const chunk of this.body()) void chunk;
  }

  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    const { value, done } = await this.source.next();
    if (done) {
      this.ended = true;
      return false;
    }
    const chunk = Buffer.isBuffer(value) ? value : Buffer.from(value);
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    return true;
  }

  private async fill(n: number): Promise<boolean> {
    while (this.buffered < n) if (!(await this.pull())) return false;
    return true;
  }

  /** Exactly n buffered bytes (n <= buffered). */
  private take(n: number): Buffer {
    const first = this.chunks[0];
    if (first && first.length >= n) return this.takeUpTo(n);
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) filled += this.takeUpTo(n - filled).copy(out, filled);
    return out;
  }

  /** Up to n bytes from the first buffered chunk, without copying. */
  private takeUpTo(n: number): Buffer {
    const first = this.chunks[0];
    if (!first) return Buffer.alloc(0);
    if (first.length <= n) {
      this.chunks.shift();
      this.buffered -= first.length;
      return first;
    }
    this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return first.subarray(0, n);
  }
}
