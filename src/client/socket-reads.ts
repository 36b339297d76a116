/**
 * A client socket's input as large reads straight into buffers fex owns (Node's `onread`), for
 * the FrameReader. Without it, Node reads at most 64 KiB per system call into a fresh buffer and
 * hands each on through the Readable's async iterator: a 1 GiB download is ~16,000 reads, each
 * costing the client's main thread a chain of promises. Here a read takes what the kernel holds,
 * up to READ_BYTES, so the same download is about 2,000 reads (docs/performance.md, "Large reads
 * on the client").
 *
 * Only connecting sockets take `onread`: a server's accepted sockets cannot, and TLS sockets
 * decrypt into buffers of their own, so both keep Node's reads. (Reading the server's sockets
 * through `data` events instead of the async iterator was tried and was not faster: a queue
 * that must pause at Node's 64 KiB stops and restarts the socket's reading for most chunks.)
 * Backpressure is kept: once HIGH_WATER bytes wait unread, reading stops until the FrameReader
 * has taken them.
 */
import type { Socket } from 'node:net';

/**
 * The most one read may bring; the kernel gives what it has, often less. In interleaved runs
 * of a 1 GiB download, 512 KiB took the client from 2.38 to 2.20 s of CPU (medians of 6) with
 * its peak RSS unchanged (109-111 MiB); 1 MiB saved a little more, but each dead buffer waits
 * longer for V8 to free it and the peak RSS grew with the file (108 MiB at 64 MiB, 126 MiB at
 * 1 GiB).
 */
export const READ_BYTES = 512 * 1024;
/**
 * The buffer of a connection whose reads are small (answers, events): an idle shell holds no
 * more than this (a crowd of 10,000 connected clients holds 40 MiB of them, not 5 GiB). A read
 * smaller than this is copied out and the buffer read into again; a read that fills it means a
 * body is coming, and the reads after it go into fresh READ_BYTES buffers that are handed on as
 * they are, until a small read again.
 */
export const IDLE_BYTES = 4 * 1024;
/** Bytes read but not yet taken at which a client's large reads pause. */
export const HIGH_WATER = 2 * READ_BYTES;

export class SocketReads implements AsyncIterable<Buffer>, AsyncIterator<Buffer> {
  private socket: Socket | undefined;
  private buffer = Buffer.allocUnsafeSlow(IDLE_BYTES);
  /** The size of the buffer the next read needs instead of the current one; 0 keeps it. */
  private renew = 0;
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private paused = false;
  private done = false;
  private failure: Error | undefined;
  private waiter:
    | { resolve: (result: IteratorResult<Buffer>) => void; reject: (error: Error) => void }
    | undefined;

  /** What to pass as `onread` to `net.connect`. */
  readonly onread = {
    buffer: (): Buffer => {
      if (this.renew > 0) {
        this.buffer = Buffer.allocUnsafeSlow(this.renew);
        this.renew = 0;
      }
      return this.buffer;
    },
    callback: (bytes: number, buffer: Uint8Array): boolean => this.arrived(bytes, buffer),
  };

  /** Bytes read and not yet taken by `next()`. */
  get queuedBytes(): number {
    return this.queued;
  }

  /** Attaches the socket created with `onread` above: its end and errors end the reads. */
  attach(socket: Socket): void {
    this.socket = socket;
    socket.on('end', () => this.finish());
    socket.on('close', () => this.finish());
    socket.on('error', (error) => this.finish(error));
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return this;
  }

  next(): Promise<IteratorResult<Buffer>> {
    const chunk = this.queue.shift();
    if (chunk) {
      this.queued -= chunk.length;
      if (this.paused && this.queued < HIGH_WATER) {
        this.paused = false;
        this.socket?.resume();
      }
      return Promise.resolve({ value: chunk, done: false });
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  private arrived(bytes: number, buffer: Uint8Array): boolean {
    let chunk: Buffer;
    if (bytes < IDLE_BYTES) {
      chunk = Buffer.from(buffer.subarray(0, bytes));
      if (buffer.length > IDLE_BYTES) this.renew = IDLE_BYTES;
    } else {
      // Handed on without a copy: this buffer is the chunk's now, the next read needs another.
      chunk = Buffer.from(buffer.buffer, buffer.byteOffset, bytes);
      this.renew = READ_BYTES;
    }
    return this.take(chunk);
  }

  /** Hands a chunk on, or queues it; false once reading must pause. */
  private take(chunk: Buffer): boolean {
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter.resolve({ value: chunk, done: false });
      return true;
    }
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (this.queued < HIGH_WATER) return true;
    this.paused = true;
    return false;
  }

  private finish(error?: Error): void {
    // What was read before a failure is still handed out; the failure comes after it.
    if (error) this.failure ??= error;
    if (this.done) return;
    this.done = true;
    const waiter = this.waiter;
    this.waiter = undefined;
    if (!waiter) return;
    if (this.failure) waiter.reject(this.failure);
    else waiter.resolve({ value: undefined, done: true });
  }
}
