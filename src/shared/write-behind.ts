/**
 * Writes a stream of chunks to a file while more arrive. Chunks gather into a batch of up to
 * BATCH_BYTES that goes down in one writev; the next batch gathers (and is hashed) while that one
 * is in flight. At most two batches are held, about 2 MiB per transfer, so memory stays flat in
 * the file size. Measured in docs/performance.md: one thread-pool round trip per MiB instead of
 * per 64 KiB chunk took a 1 GiB store from 1.3x to under 0.8x of a bare Node pipe.
 *
 * A large transfer told to the writer (`expect`) is written around the page cache instead: its
 * chunks are copied into two aligned staging blocks of the same size, each written with O_DIRECT
 * while the other fills (direct-writes.ts says why and when).
 */
import type { FileHandle } from 'node:fs/promises';
import {
  BLOCK_BYTES,
  closeDirect,
  DIRECT_ALIGN,
  openDirect,
  refusesDirect,
  type DirectWriter,
} from './direct-writes.js';
import { isDiskFull } from './errors.js';

const BATCH_BYTES = BLOCK_BYTES;

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
  /**
   * Where in the file the first chunk goes (its length so far) and how many bytes are still to
   * come: enough of them are written around the page cache. Absent: through the cache.
   */
  expect?: { position: number; bytes: number };
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
  /** Until it is known whether this writer writes directly. */
  private opening: Promise<void> | undefined;
  /** Its direct descriptor and staging blocks, from the first write until flush or settle. */
  private direct: DirectWriter | undefined;
  /** The staging block filling (index into direct.blocks), and how far. */
  private current: 0 | 1 = 0;
  private fill = 0;
  /** Where the next staged block goes in the file. */
  private position = 0;
  /** A direct write was refused: the blocks go through the cache from then on. */
  private cached = false;
  /** Staged bytes are written at explicit positions: after flush, nothing may follow them. */
  private ended = false;

  constructor(
    private readonly file: FileHandle,
    options: WriteBehindOptions = {},
  ) {
    this.syncEvery = options.syncEvery ?? 0;
    this.onFull = options.onFull;
    this.onWritten = options.onWritten;
    const { expect } = options;
    if (expect) {
      this.position = expect.position;
      this.opening = openDirect(file, expect.position, expect.bytes).then((direct) => {
        this.direct = direct;
        this.opening = undefined;
      });
    }
  }

  /** Queues a chunk; waits only when a full batch must wait for the one in flight. */
  async write(chunk: Buffer): Promise<void> {
    if (this.opening) await this.opening;
    if (this.direct) return this.stage(chunk);
    if (this.ended) throw new Error('WriteBehind: write after flush');
    this.batch.push(chunk);
    this.batched += chunk.length;
    if (this.batched >= BATCH_BYTES) await this.push();
  }

  /**
   * Writes what is queued and waits for every write; rejects with the first failure. The writer
   * is done with then: a direct one gives its blocks back.
   */
  async flush(): Promise<void> {
    if (this.opening) await this.opening;
    try {
      if (this.fill > 0) await this.pushBlock();
      else if (this.batched > 0) await this.push();
      await this.inFlight;
      await this.syncing;
      if (this.syncFailure !== undefined) throw this.syncFailure;
    } finally {
      await this.release();
    }
  }

  /** Waits for the write in flight, whatever its outcome: before closing the file on failure. */
  async settle(): Promise<void> {
    if (this.opening) await this.opening;
    await this.inFlight.catch(() => undefined);
    await this.syncing;
    await this.release();
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
    this.landed(total);
  }

  private landed(bytes: number): void {
    this.unsynced += bytes;
    this.written += bytes;
    this.onWritten?.(this.written);
    if (this.syncEvery > 0 && this.unsynced >= this.syncEvery && this.syncing === undefined)
      this.startSync();
  }

  /** Copies a chunk into the staging blocks, writing each one that fills. */
  private async stage(chunk: Buffer): Promise<void> {
    for (let at = 0; at < chunk.length;) {
      const copied = chunk.copy(this.directBlocks()[this.current], this.fill, at);
      this.fill += copied;
      at += copied;
      if (this.fill === BLOCK_BYTES) await this.pushBlock();
    }
  }

  private directBlocks(): [Buffer, Buffer] {
    if (!this.direct) throw new Error('WriteBehind: no staging blocks');
    return this.direct.blocks;
  }

  /** Waits for the block in flight, then writes the one filled while the other one fills. */
  private async pushBlock(): Promise<void> {
    await this.inFlight;
    const bytes = this.directBlocks()[this.current].subarray(0, this.fill);
    this.current = this.current === 0 ? 1 : 0;
    this.fill = 0;
    this.inFlight = this.writeBlock(bytes);
    this.inFlight.catch(() => undefined);
  }

  /**
   * Writes a staged block at its place: the aligned part directly, and what is left (the last
   * bytes of a transfer, the rest of a short write, or all of it once O_DIRECT was refused)
   * through the cache. On a file opened for appending, the position is where the file ends anyway.
   */
  private async writeBlock(bytes: Buffer): Promise<void> {
    const direct = this.direct;
    const aligned = bytes.length - (bytes.length % DIRECT_ALIGN);
    let done = 0;
    if (direct && aligned > 0 && !this.cached) {
      try {
        done = (await this.roomy(() => direct.handle.write(bytes, 0, aligned, this.position)))
          .bytesWritten;
      } catch (error) {
        if (!refusesDirect(error)) throw error;
        this.cached = true;
      }
    }
    while (done < bytes.length) {
      const at = done;
      done += (
        await this.roomy(() => this.file.write(bytes, at, bytes.length - at, this.position + at))
      ).bytesWritten;
    }
    this.position += bytes.length;
    this.landed(bytes.length);
  }

  /** Ends direct writing: every write has settled by now. */
  private async release(): Promise<void> {
    const direct = this.direct;
    if (!direct) return;
    this.direct = undefined;
    this.ended = true;
    await closeDirect(direct);
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
