/**
 * Framing: every message is a 4-byte big-endian header length, a UTF-8 JSON header of at most
 * MAX_HEADER_BYTES, and, when the header says `body: n`, exactly n raw bytes. Bodies are never
 * buffered whole: the reader hands them out chunk by chunk as the socket delivers them, and the
 * socket is only read again when the consumer asks for more (backpressure).
 */
import { FexError, hasCode } from '../shared/errors.js';
import { received } from '../shared/young-garbage.js';
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

/** Errors after which a stream of frames cannot go on: it is out of step, gone, or timed out. */
export function isStreamFatal(error: unknown): error is FexError {
  return hasCode(error, 'E_BAD_FRAME', 'E_TIMEOUT', 'CONNECTION_LOST');
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
  /** Most milliseconds of silence between frames; 0 or absent waits forever. */
  idleTimeoutMs?: number;
  /** Most milliseconds of silence inside a frame (header or body). */
  stallTimeoutMs?: number;
  /** Most milliseconds from a header's first byte to its last (slowloris). */
  headerTimeoutMs?: number;
}

/**
 * Reads frames from a stream of chunks. After a frame with a body, the caller either consumes
 * `body()` to the end or lets the next `next()` skip what it left.
 */
export class FrameReader {
  private readonly source: AsyncIterator<Buffer>;
  private readonly maxHeaderBytes: number;
  private readonly timeouts: Required<Omit<FrameReaderOptions, 'maxHeaderBytes'>>;
  /** When the header being read began, while one is. */
  private headerStarted: number | undefined;
  /** The error that ended the stream, once one has. */
  private failed: FexError | undefined;
  /** The timer of the read waiting for a chunk (see `watch`), and what it does on expiry. */
  private timer: NodeJS.Timeout | undefined;
  private timerMs = 0;
  private expire: { reason: string; reject: (error: FexError) => void } | undefined;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  /** Bytes of the current frame's body not yet handed out. */
  private bodyLeft = 0;
  /** Bytes taken from the stream so far (read ahead but not yet taken does not count). */
  consumed = 0;
  /** `consumed` where the last frame `next()` returned began. */
  frameStart = 0;

  constructor(source: AsyncIterable<Buffer>, options: FrameReaderOptions = {}) {
    this.source = source[Symbol.asyncIterator]();
    this.maxHeaderBytes = options.maxHeaderBytes ?? MAX_HEADER_BYTES;
    this.timeouts = {
      idleTimeoutMs: options.idleTimeoutMs ?? 0,
      stallTimeoutMs: options.stallTimeoutMs ?? 0,
      headerTimeoutMs: options.headerTimeoutMs ?? 0,
    };
  }

  /** The next frame's header, or null at a clean end of stream between frames. */
  async next(): Promise<Header | null> {
    try {
      return await this.readHeader();
    } catch (error) {
      // Once out of step, timed out or cut, every later read fails the same way at once.
      if (isStreamFatal(error)) this.failed ??= error;
      throw error;
    }
  }

  private async readHeader(): Promise<Header | null> {
    if (this.failed) throw this.failed;
    if (this.bodyLeft > 0) await this.skipBody();
    this.headerStarted = this.buffered > 0 ? Date.now() : undefined;
    this.frameStart = this.consumed;
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
    this.headerStarted = undefined;
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
    let next: IteratorResult<Buffer>;
    try {
      next = await this.nextChunk();
    } catch (error) {
      if (error instanceof FexError) throw error;
      // The stream itself failed (reset, destroyed): to the reader that is a lost connection.
      throw new FexError('CONNECTION_LOST', { during: ' during a transfer' });
    }
    const { value, done } = next;
    if (done) {
      this.ended = true;
      return false;
    }
    const chunk = Buffer.isBuffer(value) ? value : Buffer.from(value);
    if (chunk.length > 0) {
      this.headerStarted ??= this.bodyLeft === 0 ? Date.now() : undefined;
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      received(chunk.length);
    }
    return true;
  }

  /** The source's next chunk, within the time the reader's state allows. */
  private nextChunk(): Promise<IteratorResult<Buffer>> {
    if (this.failed) return Promise.reject(this.failed);
    const { idleTimeoutMs, stallTimeoutMs, headerTimeoutMs } = this.timeouts;
    let limit = idleTimeoutMs;
    let reason = 'the connection was idle for too long';
    if (this.bodyLeft > 0 || this.headerStarted !== undefined) {
      limit = stallTimeoutMs;
      reason = 'no data arrived for too long in the middle of a message';
    }
    if (this.headerStarted !== undefined && headerTimeoutMs > 0) {
      const left = this.headerStarted + headerTimeoutMs - Date.now();
      if (limit === 0 || left < limit) {
        limit = Math.max(left, 1);
        reason = 'a message header took too long to arrive';
      }
    }
    const next = this.source.next();
    if (limit <= 0) return next;
    return new Promise((resolve, reject) => {
      this.watch(limit, reason, reject);
      next.then(
        (result) => {
          this.expire = undefined;
          resolve(result);
        },
        (error: unknown) => {
          this.expire = undefined;
          reject(error);
        },
      );
    });
  }

  /**
   * Arms the one timer of this reader for the read now waiting. It is re-armed per chunk, not
   * created anew: a 1 GiB body arrives in ~16,000 socket reads, and a timer and a race of
   * promises for each cost the receiving end's main thread measurable time. A timer that fires
   * while no read waits does nothing.
   */
  private watch(limit: number, reason: string, reject: (error: FexError) => void): void {
    this.expire = { reason, reject };
    if (this.timer && this.timerMs === limit) {
      this.timer.refresh();
      return;
    }
    clearTimeout(this.timer);
    this.timerMs = limit;
    this.timer = setTimeout(() => {
      const expire = this.expire;
      if (!expire) return;
      this.expire = undefined;
      this.failed = new FexError('E_TIMEOUT', { reason: expire.reason });
      expire.reject(this.failed);
    }, limit);
    // The read it watches keeps the process alive while it waits; a leftover timer must not.
    this.timer.unref();
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
      this.consumed += first.length;
      return first;
    }
    this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    this.consumed += n;
    return first.subarray(0, n);
  }
}
