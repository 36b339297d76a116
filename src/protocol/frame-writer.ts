/**
 * Writes frames to a socket one at a time. A frame with a body holds the writer until its last
 * byte is written, so an event raised meanwhile waits its turn instead of landing inside the body.
 *
 * Events are the one thing a peer can make pile up without asking for it (every store by anyone
 * queues an `uploaded` event on every other connection), so what events waiting here cost is
 * bounded: per writer, and across writers by a shared ByteBudget. Each event is charged its
 * frame's bytes plus EVENT_OVERHEAD_BYTES for holding it, from the moment it is queued until the
 * socket has handed it to the kernel (Node's own write buffer holds it until then). An event over
 * either bound is dropped, and once the writer gets its turn again the peer hears how many it
 * missed.
 *
 * Events waiting in a row are one task of the writer's queue, not one each: a run of frames in a
 * Fifo (one array slot per event) that one loop writes out. A promise chain per event cost 640 to
 * 950 bytes of heap each, five to seven times an `uploaded` frame, and was not counted
 * (docs/security.md, "The memory bound").
 */
import type { Writable } from 'node:stream';
import type { ByteBudget } from '../shared/byte-budget.js';
import { changedSizeError, FexError } from '../shared/errors.js';
import { Fifo } from '../shared/fifo.js';
import { encodeHeader } from './frame.js';
import type { Header } from './constants.js';
import { hasReusedChunks, reusedChunks } from '../shared/file-chunks.js';
import { TickCork } from '../shared/tick-cork.js';

/**
 * What one queued event costs beside its frame's bytes, which are often shared by every
 * listener: its slot in the run, and once written, Node's entry for it in the socket's buffer,
 * the callback that gives its bytes back, and its share of the socket's `writev`. Measured
 * (test/unit/frame-writer-memory.test.ts) on Node 24 at about 20 bytes waiting and 170 bytes in
 * the socket's buffer; counted with room.
 */
export const EVENT_OVERHEAD_BYTES = 256;

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
  /** The run of events at the tail of the queue, which new events join; none once a frame of
   * another kind is queued behind it, so that every frame still leaves in the order it came. */
  private run: Fifo<Buffer> | undefined;
  private readonly cork: TickCork;
  private readonly drainTimeoutMs: number;
  private readonly maxQueuedEventBytes: number;
  private readonly shared: ByteBudget | undefined;
  /** What events accepted and not yet taken by the kernel cost, overhead included. */
  private queuedEventBytes = 0;
  /** The part of it handed to the stream, given back by each write's callback or on close. */
  private handedEventBytes = 0;
  /** Set once the stream has closed: whatever it still held is given back, and its late
   * callbacks (a stream need not call back a write it was in the middle of) are ignored. */
  private closed = false;
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
    stream.once('close', () => {
      this.closed = true;
      this.release(this.handedEventBytes);
      this.handedEventBytes = 0;
    });
  }

  /** What the events held here cost, in bytes with their overhead (for tests and accounting). */
  get pendingEventBytes(): number {
    return this.queuedEventBytes;
  }

  /**
   * Queues an encoded event frame, which may be the same Buffer for many writers (one encoding
   * for every listener). Over this writer's bound or the shared one the event is dropped instead,
   * and a `dropped` event with the count follows the events already queued. Never rejects.
   */
  sendEvent(frame: Buffer): EventFate {
    const cost = eventCost(frame);
    const fits =
      this.queuedEventBytes + cost <= this.maxQueuedEventBytes && (this.shared?.take(cost) ?? true);
    if (!fits) {
      if (this.dropped++ === 0)
        void this.exclusive(() => this.tellDropped()).catch(() => undefined);
      return 'dropped';
    }
    this.queuedEventBytes += cost;
    (this.run ?? this.startRun()).push(frame);
    return 'queued';
  }

  private startRun(): Fifo<Buffer> {
    const run = new Fifo<Buffer>();
    void this.exclusive(() => this.writeRun(run)).catch(() => undefined);
    this.run = run;
    return run;
  }

  /** Writes a run's events as the socket takes them; each gives its cost back once the kernel
   * has its bytes, or when the connection is lost and it never will. */
  private async writeRun(run: Fifo<Buffer>): Promise<void> {
    try {
      for (let frame = run.shift(); frame !== undefined; frame = run.shift())
        if (!this.handOver(frame)) await drained(this.stream, this.drainTimeoutMs);
    } finally {
      if (this.run === run) this.run = undefined;
      for (let frame = run.shift(); frame !== undefined; frame = run.shift())
        this.release(eventCost(frame));
    }
  }

  /** Writes one event; false when the stream wants it to wait for a drain. */
  private handOver(frame: Buffer): boolean {
    const cost = eventCost(frame);
    if (this.stream.destroyed || this.stream.writableEnded) {
      this.release(cost);
      this.writable();
    }
    this.cork.hold();
    this.handedEventBytes += cost;
    return this.stream.write(frame, () => this.taken(cost));
  }

  private taken(cost: number): void {
    if (this.closed) return;
    this.handedEventBytes -= cost;
    this.release(cost);
  }

  private release(cost: number): void {
    this.queuedEventBytes -= cost;
    this.shared?.give(cost);
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
    this.writable();
    this.cork.hold();
    const stream = this.stream;
    if (!wholly) {
      if (!stream.write(chunk)) await drained(stream, this.drainTimeoutMs);
      return;
    }
    const written = new Promise<void>((resolve, reject) => {
      stream.write(chunk, (error) => (error ? reject(error) : resolve()));
    });
    await drained(stream, this.drainTimeoutMs, written);
  }

  /** Throws when the stream can take nothing more. */
  private writable(): void {
    if (this.stream.destroyed || this.stream.writableEnded)
      throw new FexError('CONNECTION_LOST', { during: '' });
  }

  /** Queues a task behind every other; a frame queued this way closes the run of events. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    this.run = undefined;
    const run = this.queue.then(task);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}

function eventCost(frame: Buffer): number {
  return frame.length + EVENT_OVERHEAD_BYTES;
}
