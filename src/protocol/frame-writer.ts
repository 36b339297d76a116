/**
 * Writes frames to a socket one at a time. A frame with a body holds the writer until its last
 * byte is written, so an event raised meanwhile waits its turn instead of landing inside the body.
 *
 * Events are the one thing a peer can make pile up without asking for it (every store by anyone
 * queues an `uploaded` event on every other connection), so the bytes of events waiting here are
 * bounded: per writer, and across writers by a shared ByteBudget. An event over either bound is
 * dropped, and once the writer gets its turn again the peer hears how many it missed.
 */
import type { Writable } from 'node:stream';
import type { ByteBudget } from '../shared/byte-budget.js';
import { changedSizeError, FexError } from '../shared/errors.js';
import { encodeHeader } from './frame.js';
import type { Header } from './constants.js';
import { hasReusedChunks, reusedChunks } from '../shared/file-chunks.js';
import { TickCork } from '../shared/tick-cork.js';

/**
 * Resolves when the stream drains, or with `written` when given (a write's callback: the chunk
 * was handed to the system); rejects if the stream closes or fails first, or (with a time limit)
 * if the peer reads nothing for that long: a peer that stops reading must not hold the writer,
 * and its connection, for ever.
 */
function drained(stream: Writable, timeoutMs: number, written?: Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            done(new FexError('E_TIMEOUT', { reason: 'the other side stopped reading' }));
            stream.destroy();
          }, timeoutMs)
        : undefined;
    const done = (error?: Error) => {
      clearTimeout(timer);
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      stream.off('error', done);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new FexError('CONNECTION_LOST', { during: ' during a transfer' }));
    if (written) written.then(onDrain, done);
    else stream.on('drain', onDrain);
    stream.on('close', onClose);
    stream.on('error', done);
  });
}

export interface FrameWriterOptions {
  /** Most milliseconds to wait for the peer to read; 0 or absent waits for ever. */
  drainTimeoutMs?: number;
  /** Most bytes of events waiting to be written; absent: no bound. */
  maxQueuedEventBytes?: number;
  /** A bound on queued event bytes shared with other writers. */
  sharedEventBudget?: ByteBudget;
}

/** What `sendEvent` did with an event. */
export type EventFate = 'queued' | 'dropped';

export class FrameWriter {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly cork: TickCork;
  private readonly drainTimeoutMs: number;
  private readonly maxQueuedEventBytes: number;
  private readonly shared: ByteBudget | undefined;
  /** Bytes of events accepted and not yet handed to the stream. */
  private queuedEventBytes = 0;
  /** Events dropped since the peer was last told; a notice is queued while this is above 0. */
  private dropped = 0;

  constructor(
    private readonly stream: Writable,
    options: FrameWriterOptions = {},
  ) {
    this.drainTimeoutMs = options.drainTimeoutMs ?? 0;
    this.maxQueuedEventBytes = options.maxQueuedEventBytes ?? Infinity;
    this.shared = options.sharedEventBudget;
    this.cork = new TickCork(stream);
  }

  /** Bytes of events waiting to be written (for tests and accounting). */
  get pendingEventBytes(): number {
    return this.queuedEventBytes;
  }

  /**
   * Queues an encoded event frame, which may be the same Buffer for many writers (one encoding
   * for every listener). Over this writer's bound or the shared one the event is dropped instead,
   * and a `dropped` event with the count follows the events already queued. Never rejects.
   */
  sendEvent(frame: Buffer): EventFate {
    const size = frame.length;
    const fits =
      this.queuedEventBytes + size <= this.maxQueuedEventBytes && (this.shared?.take(size) ?? true);
    if (!fits) {
      if (this.dropped++ === 0)
        void this.exclusive(() => this.tellDropped()).catch(() => undefined);
      return 'dropped';
    }
    this.queuedEventBytes += size;
    const release = () => {
      this.queuedEventBytes -= size;
      this.shared?.give(size);
    };
    void this.exclusive(() => this.write(frame).finally(release)).catch(() => undefined);
    return 'queued';
  }

  private async tellDropped(): Promise<void> {
    const count = this.dropped;
    this.dropped = 0;
    await this.write(encodeHeader({ type: 'event', event: 'dropped', count }));
  }

  /** Sends a frame without body; resolves with the bytes it took. */
  send(header: Header): Promise<number> {
    return this.exclusive(async () => {
      const frame = encodeHeader(header);
      await this.write(frame);
      return frame.length;
    });
  }

  /**
   * Sends a header announcing `size` body bytes, then the body. If the source yields a different
   * number of bytes the frame cannot be completed, so the stream is destroyed and this rejects.
   * Each chunk is handed to the system before the next is asked for, so a source may read the
   * next chunk into the memory of the last (file-chunks.ts).
   */
  sendWithBody(
    header: Header,
    size: number,
    source: AsyncIterable<Buffer> | Iterable<Buffer>,
  ): Promise<number> {
    return this.exclusive(async () => {
      const frame = encodeHeader({ ...header, body: size });
      await this.write(frame);
      let sent = 0;
      try {
        const chunks = hasReusedChunks(source) ? source[reusedChunks]() : source;
        for await (const chunk of chunks) {
          sent += chunk.length;
          if (sent > size) break;
          await this.write(chunk, true);
        }
      } catch (error) {
        this.stream.destroy();
        throw error;
      }
      if (sent !== size) {
        this.stream.destroy();
        throw changedSizeError(String(header.name ?? 'the file'), size);
      }
      return frame.length + size;
    });
  }

  /**
   * Hands everything written so far to the socket now instead of at the end of the tick. Call it
   * before destroying the socket: `destroy()` drops what is still corked (`end()` does not).
   */
  uncork(): void {
    this.cork.release();
  }

  /** Writes a chunk; waits for room, or with `wholly` until the chunk itself has left. */
  private async write(chunk: Buffer, wholly = false): Promise<void> {
    const stream = this.stream;
    if (stream.destroyed || stream.writableEnded)
      throw new FexError('CONNECTION_LOST', { during: '' });
    this.cork.hold();
    if (!wholly) {
      if (!stream.write(chunk)) await drained(stream, this.drainTimeoutMs);
      return;
    }
    const written = new Promise<void>((resolve, reject) => {
      stream.write(chunk, (error) => (error ? reject(error) : resolve()));
    });
    await drained(stream, this.drainTimeoutMs, written);
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}
