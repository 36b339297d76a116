/**
 * The SHA-256 of a transfer, computed off the critical path when the file is large.
 *
 * A large file is hashed on a worker thread that reads the bytes back from the file's descriptor
 * as they land (the receiving ends: after each write-behind batch) or ahead of the sender (the
 * uploading client: the whole source at once), from the page cache. The main thread only moves
 * bytes; no file data is copied between threads and nothing is queued in memory, so the bound on
 * a transfer's memory is unchanged. The digest is awaited only at the end (commit, or the
 * download's check), where the data, journal and name are flushed as before.
 *
 * A small file is hashed inline from the chunks that pass, as before: starting a thread costs
 * more than hashing a few MiB. So is a large file when no core is free during the transfer (the
 * gate is asked ~0.1 s into it, free-cores.ts): the thread then only competes with the main
 * thread for the same cores and adds its own work (reading the bytes back, starting up), which
 * on this project's 2 busy vCPUs made transfers 12-23% slower and cost 15-20% more CPU
 * (docs/performance.md, "Work off the critical path").
 */
import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { freeCores } from './free-cores.js';

/** Files of at least this many bytes are hashed on the worker thread. */
export const OFF_THREAD_MIN_BYTES = 16 * 1024 * 1024;

/**
 * The thread is told of landed bytes at most once per this many: each message wakes it, and on a
 * busy machine a wake-up can cost the sender a millisecond (one message per 1 MiB batch spent
 * 130 ms of a 256 MiB store's server thread in postMessage, at a median of 29 µs each).
 */
const ADVANCE_BYTES = 8 * 1024 * 1024;

export type HashRequest =
  | { op: 'start'; id: number; fd: number }
  | { op: 'advance' | 'finish'; id: number; upTo: number }
  | { op: 'drop'; id: number };

export type HashReply =
  { id: number; digest: string } | { id: number; error: string } | { id: number; dropped: true };

/**
 * The cores a process must have had free lately (its own use counted as free to it) to hash on
 * the thread: one for its main thread and most of one for the thread (measured in
 * docs/performance.md, "Work off the critical path").
 */
export const THREAD_MIN_FREE_CORES = 1.5;

/**
 * Whether a file of `size` bytes is worth hashing on the thread now: it is large, and over the
 * last second or two the machine left this process a core beyond its main thread's. Undefined
 * while that is not known yet (a process that just started has no window of its own yet).
 */
export function hashOffThread(
  size: number,
  cores: () => number | undefined = freeCores,
): boolean | undefined {
  if (size < OFF_THREAD_MIN_BYTES) return false;
  const free = cores();
  return free === undefined ? undefined : free >= THREAD_MIN_FREE_CORES;
}

/** A hash being computed over the bytes of one file, from offset 0. */
export interface RunningHash {
  /** A chunk that passes (received or sent): the inline hash takes it, the thread ignores it. */
  passed(chunk: Buffer): void;
  /** Bytes [0, end) of the file are written: the thread may read them back. */
  landed(end: number): void;
  /** The digest once bytes [0, end) are hashed (hex). */
  digest(end: number): Promise<string>;
  /** Stops; resolves once the file's descriptor is no longer read, so it may be closed. */
  release(): Promise<void>;
}

class InlineHash implements RunningHash {
  constructor(private readonly hash: Hash) {}
  passed(chunk: Buffer): void {
    this.hash.update(chunk);
  }
  landed(): void {}
  digest(): Promise<string> {
    return Promise.resolve(this.hash.digest('hex'));
  }
  release(): Promise<void> {
    return Promise.resolve();
  }
}

interface Waiter {
  resolve: (reply: HashReply) => void;
}

/** The one hashing thread of this process, started on first use and kept while jobs run. */
class HashThread {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 1;
  private asking = 0;

  start(fd: number): number {
    const id = this.nextId++;
    this.post({ op: 'start', id, fd });
    return id;
  }

  post(message: HashRequest): void {
    this.thread().postMessage(message);
  }

  /** Posts a request the thread answers, and resolves with the answer; the job is then over. */
  ask(message: HashRequest): Promise<HashReply> {
    // The thread keeps the process alive only while an answer is awaited: a job nobody asks
    // about (a transfer dropped on a path that forgot it) must not keep a process from exiting.
    if (this.asking++ === 0) this.thread().ref();
    return new Promise<HashReply>((resolve) => {
      this.waiting.set(message.id, { resolve });
      this.post(message);
    }).finally(() => {
      if (--this.asking === 0) this.worker?.unref();
    });
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./hash-thread.js', import.meta.url));
    if (this.asking === 0) worker.unref();
    worker.on('message', (reply: HashReply) => {
      this.waiting.get(reply.id)?.resolve(reply);
      this.waiting.delete(reply.id);
    });
    const fail = (error: unknown) => {
      // Every job in flight fails with the thread; the next one starts a new thread.
      const reason =
        error instanceof Error ? error.message : `the hashing thread exited (${String(error)})`;
      this.worker = undefined;
      for (const [id, waiter] of this.waiting) waiter.resolve({ id, error: reason });
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.worker === worker) fail(code);
    });
    this.worker = worker;
    return worker;
  }
}

let shared: HashThread | undefined;

class ThreadHash implements RunningHash {
  private readonly id: number;
  private settled: Promise<unknown> | undefined;
  private told = 0;

  constructor(
    private readonly thread: HashThread,
    fd: number,
  ) {
    this.id = thread.start(fd);
  }

  passed(): void {}

  landed(end: number): void {
    if (this.settled || end - this.told < ADVANCE_BYTES) return;
    this.told = end;
    this.thread.post({ op: 'advance', id: this.id, upTo: end });
  }

  async digest(end: number): Promise<string> {
    if (this.settled) throw new Error('the hash was already taken');
    const answer = this.thread.ask({ op: 'finish', id: this.id, upTo: end });
    this.settled = answer;
    const reply = await answer;
    if ('digest' in reply) return reply.digest;
    throw new Error(`hashing failed: ${'error' in reply ? reply.error : 'dropped'}`);
  }

  async release(): Promise<void> {
    this.settled ??= this.thread.ask({ op: 'drop', id: this.id });
    await this.settled;
  }
}

function threadHash(fd: number): ThreadHash {
  shared ??= new HashThread();
  return new ThreadHash(shared, fd);
}

/**
 * Hashes inline until the gate can tell (the cores free during the transfer itself, once a
 * window of them has passed: ~0.1 s into a one-shot client's upload), then hands over to the
 * thread if it opens. The thread hashes from offset 0, so what was hashed inline is read again
 * (at most ~0.1 s worth); a closed gate is not asked again.
 */
class DecidingHash implements RunningHash {
  private thread: ThreadHash | undefined;
  private decided = false;
  private landedTo = 0;

  constructor(
    private readonly inline: InlineHash,
    private readonly fd: number,
    private readonly gate: () => boolean | undefined,
  ) {}

  passed(chunk: Buffer): void {
    if (this.thread) return;
    this.inline.passed(chunk);
    this.decide();
  }

  landed(end: number): void {
    this.landedTo = Math.max(this.landedTo, end);
    if (this.thread) this.thread.landed(end);
    else this.decide();
  }

  digest(end: number): Promise<string> {
    this.decided = true;
    return (this.thread ?? this.inline).digest(end);
  }

  release(): Promise<void> {
    this.decided = true;
    return (this.thread ?? this.inline).release();
  }

  private decide(): void {
    if (this.decided) return;
    const open = this.gate();
    if (open === undefined) return;
    this.decided = true;
    if (!open) return;
    this.thread = threadHash(this.fd);
    this.thread.landed(this.landedTo);
  }
}

/**
 * A running hash of the file open as `fd`, whose first bytes are already hashed in `prefix` when
 * resuming. Off the thread, it is hashed from offset 0 (the prefix is read again there); inline,
 * from `prefix` on. `offThread` decides (a gate asked until it answers); by default
 * `hashOffThread(size)`. `fd` must be readable and stay open until `digest` or `release` settles.
 */
export function runningHash(
  fd: number,
  size: number,
  prefix?: Hash,
  offThread: boolean | (() => boolean | undefined) = () => hashOffThread(size),
): RunningHash {
  if (offThread === true) return threadHash(fd);
  const inline = new InlineHash(prefix ?? createHash('sha256'));
  if (offThread === false || size < OFF_THREAD_MIN_BYTES) return inline;
  return new DecidingHash(inline, fd, offThread);
}
