/**
 * A small upload that nobody can resume (at most WAL_MAX_BYTES, sent in the `store` request
 * itself). Its body is held in memory, bounded by that limit, and nothing touches the disk until
 * the commit: then the aside file is written whole with synchronous calls, and the bytes go into
 * the journal line (wal.ts), whose shared flush makes the store durable.
 *
 * Synchronous on purpose. On the 2-core VMs fex is measured on, a thread-pool round trip costs
 * about 40 µs of CPU more than the same system call made directly (docs/performance.md), and
 * creating, writing and closing a file of at most 16 KiB are a few calls that do not wait on the
 * disk (no flush). A small store used to make five such round trips.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fdatasync, fstatSync, openSync, rmSync, writeSync } from 'node:fs';
import { FexError, hasCode } from '../../shared/errors.js';
import { committedFile } from './meta-record.js';
import { ioError } from './fs-helpers.js';
import type { PutHost } from './local-pending-put.js';
import type { PendingPut, PutOptions, StoredFile } from './storage.js';
import { UNFLUSHED_MTIME } from './wal.js';

export class SmallPendingPut implements PendingPut {
  readonly offset = 0;
  readonly prefixSha256 = undefined;
  private readonly bytes: Buffer;
  private hash: Hash = createHash('sha256');
  private written = 0;
  private done = false;

  constructor(
    private readonly host: PutHost,
    private readonly name: string,
    private readonly options: PutOptions,
    /** Where the file is written aside at commit, in `.fex/tmp`. */
    private readonly asidePath: string,
  ) {
    this.bytes = Buffer.allocUnsafe(options.size);
  }

  async restart(): Promise<void> {
    this.hash = createHash('sha256');
    this.written = 0;
  }

  async write(body: AsyncIterable<Buffer>): Promise<number> {
    for await (const chunk of body) {
      this.hash.update(chunk);
      if (this.written + chunk.length > this.options.size) {
        this.written += chunk.length;
        break;
      }
      chunk.copy(this.bytes, this.written);
      this.written += chunk.length;
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
      const sha256 = this.hash.digest('hex');
      if (sha256 !== expectedSha256) throw new FexError('E_CHECKSUM', { name: this.name });
      const stored = committedFile(this.name, size, this.options, sha256);
      if (this.host.mayLog()) {
        closeSync(await this.createAsideRoomy());
        const data = this.bytes.toString('base64');
        await this.host.install({ ...stored, mtimeMs: UNFLUSHED_MTIME }, this.asidePath, data);
      } else {
        // The log is full until a checkpoint catches up: flush this file itself, as a large one.
        const fd = await this.createAsideRoomy();
        let mtimeMs: number;
        try {
          await new Promise<void>((resolve, reject) =>
            fdatasync(fd, (error) => (error ? reject(ioError(error)) : resolve())),
          );
          mtimeMs = fstatSync(fd).mtimeMs;
        } finally {
          closeSync(fd);
        }
        await this.host.install({ ...stored, mtimeMs }, this.asidePath);
      }
      this.finish();
      return stored;
    } catch (error) {
      await this.abort();
      throw error;
    }
  }

  /** createAside(), again each time the storage frees space after it failed for lack of it. */
  private async createAsideRoomy(): Promise<number> {
    for (;;) {
      try {
        return this.createAside();
      } catch (error) {
        if (!hasCode(error, 'E_DISK_FULL')) throw error;
        if (!(await this.host.reclaim())) throw error;
        // Created anew ('wx'): what the failed attempt wrote goes first.
        rmSync(this.asidePath, { force: true });
      }
    }
  }

  /** Creates the aside file with the body in it; returns it open. */
  private createAside(): number {
    let fd: number | undefined;
    try {
      fd = openSync(this.asidePath, 'wx', 0o644);
      for (let at = 0; at < this.written;)
        at += writeSync(fd, this.bytes, at, this.written - at, at);
      return fd;
    } catch (error) {
      if (fd !== undefined) closeSync(fd);
      throw ioError(error);
    }
  }

  async suspend(): Promise<void> {
    await this.abort();
  }

  async abort(): Promise<void> {
    if (this.done) return;
    rmSync(this.asidePath, { force: true });
    this.finish();
  }

  private finish(): void {
    this.done = true;
    this.host.release(this.asidePath);
  }
}
