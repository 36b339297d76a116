/**
 * One upload into the local backend. Its bytes go to an aside file opened for appending, hashed
 * as they arrive. A resumable upload's aside file is named after (owner, name, size), so when a
 * connection breaks, `suspend()` keeps it and the next put of the same file picks it up at its
 * length; the whole-file checksum at commit still covers every byte. An unresumable upload's
 * aside file has a random name and is discarded on `suspend()` as on `abort()`. A large upload is
 * hashed on the hashing thread from the aside file as its batches land (shared/file-hash.ts), so
 * the aside file is opened for reading too.
 * (A small unresumable upload is a SmallPendingPut instead, journaled with its bytes.)
 */
import type { Hash } from 'node:crypto';
import { rm, type FileHandle } from 'node:fs/promises';
import { FexError } from '../../shared/errors.js';
import { runningHash, type RunningHash } from '../../shared/file-hash.js';
import { SYNC_EVERY_BYTES, WriteBehind } from '../../shared/write-behind.js';
import { ioError } from './fs-helpers.js';
import { committedFile, type MetaRecord } from './meta-record.js';
import type { PendingPut, PutOptions, StoredFile } from './storage.js';

/** What the pending upload needs from its storage. */
export interface PutHost {
  /** Runs a commit in the order commits were called for its name and clashing names. */
  commitInTurn<T>(name: string, task: () => Promise<T>): Promise<T>;
  /**
   * Makes the verified aside file visible; only inside commitInTurn(). The file must be flushed,
   * unless `data` (its bytes, base64) is given for the journal to hold them.
   */
  install(record: MetaRecord, asidePath: string, data?: string): Promise<void>;
  /** Whether a small store may journal its bytes now, rather than flush its file. */
  mayLog(): boolean;
  /** Called once the aside file is no longer in use (committed, kept or removed). */
  release(asidePath: string): void;
  /** The disk is full: deletes the oldest abandoned upload; false if there was none. */
  reclaim(): Promise<boolean>;
}

export class LocalPendingPut implements PendingPut {
  private written: number;
  private done = false;
  private closing: Promise<void> | undefined;
  private hash: RunningHash;
  /** The SHA-256 of the bytes held when this put began, offered to a resuming client. */
  private readonly heldSha256: string | undefined;

  constructor(
    private readonly host: PutHost,
    private readonly name: string,
    private readonly options: PutOptions,
    private readonly asidePath: string,
    private readonly handle: FileHandle,
    /** The hash of the aside file's first `offset` bytes. */
    prefix: Hash,
    readonly offset: number,
    /** false: suspend() discards the aside file, nobody can resume it */
    private readonly resumable: boolean,
  ) {
    this.written = offset;
    this.heldSha256 = offset > 0 ? prefix.copy().digest('hex') : undefined;
    this.hash = runningHash(handle.fd, options.size, prefix);
  }

  get prefixSha256(): string | undefined {
    return this.heldSha256;
  }

  async restart(): Promise<void> {
    await this.handle.truncate(0).catch((error: unknown) => {
      throw ioError(error);
    });
    await this.hash.release();
    this.hash = runningHash(this.handle.fd, this.options.size);
    this.written = 0;
  }

  async write(body: AsyncIterable<Buffer>): Promise<number> {
    // A large upload is flushed while it arrives, so the commit's fdatasync is short.
    const base = this.written;
    const hash = this.hash;
    const disk = new WriteBehind(this.handle, {
      syncEvery: SYNC_EVERY_BYTES,
      onFull: () => this.host.reclaim(),
      onWritten: (written) => hash.landed(base + written),
    });
    let diskFailed = false;
    const failed = (error: unknown) => {
      diskFailed = true;
      throw error;
    };
    try {
      for await (const chunk of body) {
        hash.passed(chunk);
        this.written += chunk.length;
        if (this.written > this.options.size) break;
        // Waiting for the disk when a batch is full is the backpressure: the socket is not read.
        await disk.write(chunk).catch(failed);
      }
      await disk.flush().catch(failed);
    } catch (error) {
      if (diskFailed) {
        await disk.settle();
        throw ioError(error);
      }
      // The body broke off (connection lost, timeout): the batch still queued holds bytes the
      // server received, and a resumed upload must be offered every one of them.
      await disk.flush().catch(() => disk.settle());
      throw ioError(error);
    }
    return this.written;
  }

  commit(expectedSha256: string): Promise<StoredFile> {
    return this.host.commitInTurn(this.name, () => this.commitNow(expectedSha256));
  }

  private async commitNow(expectedSha256: string): Promise<StoredFile> {
    try {
      const { size } = this.options;
      if (this.written !== size)
        throw new FexError('E_SIZE', { name: this.name, got: this.written, expected: size });
      // The hashing thread may still be reading the last batches back: flush meanwhile.
      const digest = this.hash.digest(size);
      digest.catch(() => undefined);
      let mtimeMs: number;
      try {
        // Every write has returned, so the mtime is final; fdatasync flushes the bytes and the
        // size, which is what the journal record vouches for. Both round trips run together.
        const [info] = await Promise.all([this.handle.stat(), this.handle.datasync()]);
        mtimeMs = info.mtimeMs;
      } catch (error) {
        throw ioError(error);
      }
      const sha256 = await digest.catch((error: unknown) => {
        throw ioError(error);
      });
      if (sha256 !== expectedSha256) throw new FexError('E_CHECKSUM', { name: this.name });
      // The rename does not need the file closed: close while the journal is flushed. A failed
      // close of flushed bytes loses nothing, so it must not fail a commit that went through.
      const closed = this.close().catch(() => undefined);
      const stored = committedFile(this.name, size, this.options, sha256);
      await this.host.install({ ...stored, mtimeMs }, this.asidePath);
      await closed;
      this.finish();
      return stored;
    } catch (error) {
      await this.abort();
      throw error;
    }
  }

  async suspend(): Promise<void> {
    if (!this.resumable) return this.abort();
    if (this.done) return;
    await this.close().catch(() => undefined);
    this.finish();
  }

  async abort(): Promise<void> {
    if (this.done) return;
    await this.close().catch(() => undefined);
    await rm(this.asidePath, { force: true });
    this.finish();
  }

  /** Closes the file once, however many paths lead here. */
  private close(): Promise<void> {
    // The hashing thread reads the descriptor: it must be done before the number can be reused.
    this.closing ??= this.hash.release().then(() => this.handle.close());
    return this.closing;
  }

  private finish(): void {
    this.done = true;
    this.host.release(this.asidePath);
  }
}
