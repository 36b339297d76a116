/**
 * Writes a stream of chunks to a file while more arrive. Chunks gather into a batch of up to
 * BATCH_BYTES that goes down in one writev; the next batch gathers (and is hashed) while that one
 * is in flight. At most two batches are held, about 2 MiB per transfer, so memory stays flat in
 * the file size. Measured in docs/performance.md: one thread-pool round trip per MiB instead of
 * per 64 KiB chunk took a 1 GiB store from 1.3x to under 0.8x of a bare Node pipe.
 */
import type { FileHandle } from 'node:fs/promises';
import { isDiskFull } from './errors.js';

const BATCH_BYTES = 1024 * 1024;

/**
 * How often a large transfer's receiving end starts flushing to disk in the background (see
 * `syncEvery`), so its final fsync finds little left to write (measured in docs/performance.md).
 */
export const SYNC_EVERY_BYTES = 32 * 1024 * 1024;

export interface WriteBehindOptions {
  /**
   * Starts an fdatasync in the background once this many bytes were written since the last one
   * (0 or absent: never). The disk then writes while the transfer goes on, instead of all at once
   * in the final fsync; the kernel would not start on its own before ~10% of RAM is dirty.
   */
  syncEvery?: number;
  /**
   * Called when a write fails for lack of space (`isDiskFull`: ENOSPC, EDQUOT, EFBIG): resolves true if it freed some,
   * and the write is tried again; false lets the write fail.
   */
  onFull?: () => Promise<boolean>;
  /**
   * Called after each batch is in the file with how many bytes this writer has written so far:
   * a hashing thread may read them back from there (file-hash.ts).
   */
  onWritten?: (written: number) => void;
}

export class WriteBehind {
  private batch: Buffer[] = [];
  private batched = 0;
  private inFlight: Promise<void> = Promise.resolve();
  private readonly syncEvery: number;
  private readonly onFull: (() => Promise<boolean>) | undefined;
  private unsynced = 0;
  private written = 0;
  private readonly onWritten: ((written: number) => void) | undefined;
  /** The background fdatasync, while one runs; at most one at a time. */
  private syncing: Promise<void> | undefined;
  /** Its failure, kept to be rethrown by flush: a lost write must not go unnoticed. */
  private syncFailure: unknown;

  constructor(
    private readonly file: FileHandle,
    options: WriteBehindOptions = {},
  ) {
    this.syncEvery = options.syncEvery ?? 0;
    this.onFull = options.onFull;
    this.onWritten = options.onWritten;
  }

  /** Queues a chunk; waits only when a full batch must wait for the one in flight. */
  async write(chunk: Buffer): Promise<void> {
    this.batch.push(chunk);
    this.batched += chunk.length;
    if (this.batched >= BATCH_BYTES) await this.push();
  }

  /** Writes what is queued and waits for every write; rejects with the first failure. */
  async flush(): Promise<void> {
    if (this.batched > 0) await this.push();
    await this.inFlight;
    await this.syncing;
    if (this.syncFailure !== undefined) throw this.syncFailure;
  }

  /** Waits for the write in flight, whatever its outcome: before closing the file on failure. */
  async settle(): Promise<void> {
    await this.inFlight.catch(() => undefined);
    await this.syncing;
  }

  private async push(): Promise<void> {
    await this.inFlight;
    const batch = this.batch;
    const total = this.batched;
    this.batch = [];
    this.batched = 0;
    this.inFlight = this.writeAll(batch, total);
    // Observed here so a failure is not unhandled; it is rethrown by the next push or flush.
    this.inFlight.catch(() => undefined);
  }

  private async writeAll(batch: Buffer[], total: number): Promise<void> {
    const { bytesWritten } = await this.roomy(() => this.file.writev(batch));
    // A short write (rare on files, e.g. near a full disk) leaves the rest to write in order.
    if (bytesWritten < total) {
      let rest = Buffer.concat(batch).subarray(bytesWritten);
      while (rest.length > 0)
        rest = rest.subarray((await this.roomy(() => this.file.write(rest))).bytesWritten);
    }
    this.unsynced += total;
    this.written += total;
    this.onWritten?.(this.written);
    if (this.syncEvery > 0 && this.unsynced >= this.syncEvery && this.syncing === undefined)
      this.startSync();
  }

  /** Runs a write, again each time `onFull` frees space after it failed for lack of it. */
  private async roomy<T>(write: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await write();
      } catch (error) {
        if (!isDiskFull(error) || !(await this.onFull?.())) throw error;
      }
    }
  }

  /** Flushes what is written so far while the next batches go on; never awaited by writes. */
  private startSync(): void {
    this.unsynced = 0;
    this.syncing = this.file.datasync().then(
      () => {
        this.syncing = undefined;
      },
      (error: unknown) => {
        this.syncFailure ??= error;
        this.syncing = undefined;
      },
    );
  }
}
