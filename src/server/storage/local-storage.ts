/**
 * The default backend: files live in the server directory under their own names, so an operator
 * sees them on disk; bookkeeping lives in the reserved `.fex` folder beside them:
 *
 *   .fex/partial/  uploads in progress, written aside and renamed into place when verified; one
 *                  interrupted by a lost connection stays here, named by a hash of (owner, name,
 *                  size), until the same upload resumes it or it is older than `partialTtlMs`
 *   .fex/tmp/      uploads that cannot be resumed (a second concurrent upload of the same file,
 *                  or one put with `resumable: false`)
 *   .fex/journal   the records (owner, size, checksum, stored time), one JSON line per commit or
 *                  removal, group-committed; compacted at open() and when it grows
 *
 * Order of a commit: fdatasync the data, append the record to the journal (durably), rename the
 * data into place, fsync the root (shared by concurrent commits). A crash between the append and
 * the rename leaves a record that does not match the file's size and mtime; open() notices and
 * re-hashes the file (the owner cannot differ, since only the owner may replace a file), or drops
 * the record if there is no file.
 *
 * A small unresumable store (at most WAL_MAX_BYTES) skips the data fdatasync and the root fsync:
 * its journal line carries its bytes, so once the line is flushed the store is durable whatever
 * happens to the file; open() rewrites the file from the line if it differs. A checkpoint (in the
 * background, at close() and at open()) later flushes those files and journals their records
 * again without the bytes (checkpoint.ts, wal-restore.ts).
 */
import { createHash } from 'node:crypto';
import { constants, renameSync } from 'node:fs';
import { lstat, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FexError } from '../../shared/errors.js';
import { nameKey, RESERVED_DIR, refuseBadName } from '../../protocol/names.js';
import { AsideFiles } from './aside-files.js';
import { Checkpointer, eachLimited } from './checkpoint.js';
import { DirSync } from './dir-sync.js';
import { hashFile, ioError } from './fs-helpers.js';
import { Journal } from './journal.js';
import { LocalPendingPut, type PutHost } from './local-pending-put.js';
import { NameOrder } from './name-order.js';
import { recover } from './local-recovery.js';
import { isExpired, notOwner, publicView, type MetaRecord } from './meta-record.js';
import { NameTurns } from './name-turns.js';
import type {
  ExpireResult,
  ListOptions,
  PendingPut,
  PutOptions,
  Storage,
  StoredFile,
} from './storage.js';
import { SmallPendingPut } from './small-pending-put.js';
import { WAL_MAX_BYTES } from './wal.js';
import { fileStream } from '../../shared/file-chunks.js';

export interface LocalStorageOptions {
  /** How long an interrupted upload is kept for resuming, in milliseconds. Default one day. */
  partialTtlMs?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Expired files removed at once by a sweep. */
const EXPIRE_CONCURRENCY = 64;

export class LocalStorage implements Storage {
  private readonly journalPath: string;
  private readonly index = new Map<string, MetaRecord>();
  /** The index's names in listing order, and each owner's count; kept by setRecord and forget. */
  private readonly order = new NameOrder();
  /** nameKey -> name, to find case and Unicode-form clashes without a scan. */
  private readonly keys = new Map<string, string>();
  /** `.fex/partial` and `.fex/tmp`, where uploads are written before they are verified. */
  private readonly asides: AsideFiles;
  /**
   * Commits of one name run one after the other, in the order they were called, so the owner
   * check and rename are atomic. Keyed by nameKey: of two concurrent commits of clashing names,
   * the second must see the first.
   */
  private readonly turns = new NameTurns();
  /**
   * Names whose file is being replaced: set before the rename, cleared once the index holds the
   * new record. A reader that saw it set, or another record after its open, opens again.
   */
  private readonly swapping = new Map<string, Promise<void>>();
  private journal: Journal | undefined;
  private rootSync: DirSync | undefined;
  /** The small stores whose bytes only the journal holds durably yet. */
  private readonly checkpointer: Checkpointer;
  /** What a pending upload may do to this storage, and nobody else. */
  private readonly host: PutHost = {
    commitInTurn: (name, task) => this.turns.commit(name, task),
    install: (record, asidePath, data) => this.install(record, asidePath, data),
    mayLog: () => this.checkpointer.hasRoom(),
    release: (asidePath) => this.asides.release(asidePath),
    reclaim: () => this.asides.reclaim(),
  };

  constructor(
    readonly root: string,
    options: LocalStorageOptions = {},
  ) {
    this.journalPath = join(root, RESERVED_DIR, 'journal');
    this.asides = new AsideFiles(root, options.partialTtlMs ?? DAY_MS);
    this.checkpointer = new Checkpointer({
      root,
      syncRoot: () => this.opened().rootSync.sync(),
      settle: (logged, flushed) => this.settle(logged, flushed),
    });
  }

  async open(): Promise<void> {
    await this.asides.open();
    const { journal, found } = await recover(this.root, this.asides.tmpDir, this.journalPath);
    this.journal = journal;
    this.rootSync = await DirSync.open(this.root);
    for (const record of found.values()) this.setRecord(record);
  }

  async list(options: ListOptions = {}): Promise<StoredFile[]> {
    const { limit = Infinity } = options;
    const now = Date.now();
    const files: StoredFile[] = [];
    if (limit <= 0) return files;
    // An expired file not yet swept is skipped, and the page filled from the names after it.
    for (const name of this.order.from(options)) {
      const record = this.index.get(name) as MetaRecord;
      if (!isExpired(record, now) && files.push(publicView(record)) >= limit) break;
    }
    return files;
  }

  async count(owner?: string | null): Promise<number> {
    return owner === undefined ? this.order.size : this.order.countOf(owner);
  }

  async put(name: string, options: PutOptions): Promise<PendingPut> {
    // Plugins reach storage directly: a name like "../x" must never become a path here.
    refuseBadName(name);
    this.checkReplace(name, options.owner);
    if (options.resumable === false) return this.putUnresumable(name, options);
    const { path, resumable } = this.asides.claim(options.owner, name, options.size);
    let handle: FileHandle | undefined;
    try {
      // Append mode: the bytes of an interrupted upload stay, new ones go after them.
      handle = await open(path, 'a+', 0o644);
      let offset = (await handle.stat()).size;
      if (offset > options.size) {
        await handle.truncate(0);
        offset = 0;
      }
      const hash = await hashFile(path, offset);
      return new LocalPendingPut(this.host, name, options, path, handle, hash, offset, resumable);
    } catch (error) {
      await handle?.close().catch(() => undefined);
      this.asides.release(path);
      throw ioError(error);
    }
  }

  /** A fresh aside file, with no earlier bytes to look for and none kept when cut off. */
  private async putUnresumable(name: string, options: PutOptions): Promise<PendingPut> {
    const path = this.asides.tmpPath();
    if (options.size <= WAL_MAX_BYTES) return new SmallPendingPut(this.host, name, options, path);
    let handle: FileHandle;
    try {
      // 'ax+': created here or failing (like 'wx'), appending so restart()'s truncate rewinds,
      // and readable for the hashing thread (shared/file-hash.ts).
      handle = await open(path, 'ax+', 0o644);
    } catch (error) {
      throw ioError(error);
    }
    return new LocalPendingPut(
      this.host,
      name,
      options,
      path,
      handle,
      createHash('sha256'),
      0,
      false,
    );
  }

  async read(name: string, start = 0): Promise<{ file: StoredFile; stream: Readable }> {
    // Without the lock first, so readers never queue behind a commit's flush; should replacements
    // keep coming between the lookup and the open, in turn with the commits.
    const opened =
      (await this.openRecorded(name)) ??
      (await this.openRecorded(name)) ??
      (await this.turns.run(name, () => this.openRecorded(name)));
    if (!opened) throw new FexError('E_INTERNAL', { reason: `${name} kept changing` });
    const { record, handle } = opened;
    const info = await handle.stat();
    if (!info.isFile() || info.size !== record.size) {
      await handle.close();
      throw new FexError('E_INTERNAL', { reason: `${name} changed on disk outside fex` });
    }
    const from = Math.min(start, record.size);
    return {
      file: publicView(record),
      // 1 MiB reads (or one read of a smaller file), into two buffers used in turn when sent
      // (shared/file-chunks.ts).
      stream: fileStream(handle, from, record.size),
    };
  }

  /**
   * The name's record and its file, opened, or undefined when the file was replaced between the
   * lookup and the open (`swapping`): the descriptor is then of another version than the record.
   */
  private async openRecorded(
    name: string,
  ): Promise<{ record: MetaRecord; handle: FileHandle } | undefined> {
    await this.swapping.get(name);
    const record = this.live(name);
    if (!record) throw new FexError('E_NOT_FOUND', { name });
    let handle: FileHandle;
    try {
      // O_NOFOLLOW: a symlink planted after start-up is refused, not followed.
      handle = await open(join(this.root, name), constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      if (
        (error as NodeJS.ErrnoException).code === 'ENOENT' ||
        (error as NodeJS.ErrnoException).code === 'ELOOP'
      ) {
        this.forget(name);
        throw new FexError('E_NOT_FOUND', { name });
      }
      throw ioError(error);
    }
    if (!this.swapping.has(name) && this.index.get(name) === record) return { record, handle };
    await handle.close();
    return undefined;
  }

  async remove(name: string, owner: string | undefined): Promise<StoredFile> {
    this.opened();
    return this.turns.run(name, async () => {
      const record = this.live(name);
      if (!record) throw new FexError('E_NOT_FOUND', { name });
      if (owner !== undefined && record.owner !== owner) throw notOwner(record, 'delete');
      await this.unlink(record);
      return publicView(record);
    });
  }

  async rename(from: string, to: string, owner: string): Promise<StoredFile> {
    this.opened();
    for (const name of [from, to]) refuseBadName(name);
    return this.turns.both(from, to, async () => {
      const record = this.renamable(from, to, owner);
      // An expired file not swept yet gives way, as the sweep would have removed it.
      const stale = this.index.get(to);
      if (stale) await this.unlink(stale);
      // A file put in the folder since start-up, or a folder, is never overwritten.
      if (await lstat(join(this.root, to)).catch(() => undefined))
        throw new FexError('E_NAME_TAKEN', { name: to });
      return publicView(await this.move(record, to));
    });
  }

  /** The record of `from` when `owner` may rename it to `to`; rename()'s checks, in its turn. */
  private renamable(from: string, to: string, owner: string): MetaRecord {
    const record = this.live(from);
    if (!record) throw new FexError('E_NOT_FOUND', { name: from });
    if (record.owner !== owner) throw notOwner(record, 'rename');
    const target = this.live(to);
    if (target)
      throw target.owner === owner
        ? new FexError('E_NAME_TAKEN', { name: to })
        : notOwner(target, 'replace');
    const other = this.keys.get(nameKey(to));
    if (other !== undefined && other !== from && this.live(other))
      throw new FexError('E_NAME_CLASH', { existing: other });
    return record;
  }

  /** Moves a checked record's file to `to`, durably; the caller holds both names' turns. */
  private async move(record: MetaRecord, to: string): Promise<MetaRecord> {
    const { journal, rootSync } = this.opened();
    const from = record.name;
    const renamed: MetaRecord = { ...record, name: to };
    const data = this.checkpointer.dataOf(record);
    // The journal line first: once it is flushed the rename is decided, and open() finishes it
    // if a crash comes before the file moves (rename-recovery.ts).
    try {
      await journal.append(renamed, data, from);
    } catch (error) {
      throw ioError(error);
    }
    try {
      await rename(join(this.root, from), join(this.root, to));
    } catch (error) {
      // Undo the line, so open() does not finish what failed here.
      await journal.append(record, data, to).then(
        () => journal.renamed(record, data),
        () => undefined,
      );
      throw ioError(error);
    }
    this.forget(from);
    this.setRecord(renamed, data);
    try {
      await rootSync.sync();
    } catch (error) {
      throw ioError(error);
    }
    journal.renamed(renamed, data);
    return renamed;
  }

  async expire(now: number): Promise<ExpireResult> {
    const due = [...this.index.values()].filter((record) => isExpired(record, now));
    const gone: Array<MetaRecord | undefined> = new Array(due.length);
    // Side by side, so the removals share the journal's flushes and the root's fsyncs.
    await eachLimited([...due.keys()], EXPIRE_CONCURRENCY, async (i) => {
      const { name } = due[i]!;
      // In turn with the name's commits: a file stored again meanwhile has its own expiry.
      gone[i] = await this.turns.run(name, async () => {
        const current = this.index.get(name);
        if (!current || !isExpired(current, now)) return undefined;
        await this.unlink(current);
        return current;
      });
    });
    const expired = gone.filter((record) => record !== undefined).map(publicView);
    let next: number | undefined;
    for (const { expires } of this.index.values())
      if (expires !== undefined && (next === undefined || expires < next)) next = expires;
    return { expired, next };
  }

  async close(): Promise<void> {
    this.asides.close();
    await this.turns.idle();
    // A failed checkpoint loses nothing: the journal keeps the bytes for the next open().
    if (this.journal && this.checkpointer.size > 0) await this.checkpoint().catch(() => undefined);
    await this.checkpointer.idle();
    await this.journal?.close();
    await this.rootSync?.close();
  }

  /**
   * Flushes the small stores whose bytes only the journal holds (checkpoint.ts) and journals them
   * again without their bytes. Runs by itself in the background and at close(); safe at any time.
   */
  checkpoint(): Promise<void> {
    return this.checkpointer.run();
  }

  /** For the checkpointer: in turn with the name's commits, so lines stay in order. */
  private settle(logged: MetaRecord, flushed: MetaRecord): Promise<boolean> {
    return this.turns.run(logged.name, async () => {
      if (this.index.get(logged.name) !== logged) return false;
      await this.opened().journal.append(flushed);
      this.index.set(logged.name, flushed);
      return true;
    });
  }

  private checkReplace(name: string, owner: string): void {
    const existing = this.live(name);
    if (existing && existing.owner !== owner) throw notOwner(existing, 'replace');
    const other = existing ? undefined : this.keys.get(nameKey(name));
    if (other !== undefined && other !== name && this.live(other))
      throw new FexError('E_NAME_CLASH', { existing: other });
  }

  /**
   * For a pending upload, inside commitInTurn(). With `data` (the bytes, base64, of a
   * small store whose file was not flushed) the journal line is the durable copy: no root fsync,
   * since open() rewrites the file from the line if the rename (or the data) was lost.
   */
  private async install(record: MetaRecord, asidePath: string, data?: string): Promise<void> {
    const { journal, rootSync } = this.opened();
    this.checkReplace(record.name, record.owner ?? '');
    const previous = this.index.get(record.name);
    for (;;) {
      try {
        await journal.append(record, data);
        break;
      } catch (error) {
        const failure = ioError(error);
        if (failure.code !== 'E_DISK_FULL' || !(await this.asides.reclaim())) throw failure;
      }
    }
    // From the rename until the record names the new file, a reader could open one version and
    // describe it with the other's record: readers wait for the swap, or notice it and retry.
    let swapped!: () => void;
    this.swapping.set(record.name, new Promise<void>((resolve) => (swapped = resolve)));
    try {
      // A logged store's rename need not be durable, and a direct call costs a fraction of a
      // thread-pool round trip (small-pending-put.ts).
      if (data === undefined) await rename(asidePath, join(this.root, record.name));
      else renameSync(asidePath, join(this.root, record.name));
      this.setRecord(record, data);
    } catch (error) {
      // Best effort: the journal should describe the file that stayed (with its bytes, if they are
      // not checkpointed yet, or replay would resurrect this failed commit's); open() copes if not.
      const restore = previous
        ? journal.append(previous, this.checkpointer.dataOf(previous))
        : journal.append({ remove: record.name });
      await restore.catch(() => undefined);
      throw ioError(error);
    } finally {
      this.swapping.delete(record.name);
      swapped();
    }
    if (data === undefined) {
      try {
        await rootSync.sync();
      } catch (error) {
        throw ioError(error);
      }
    }
  }

  private opened(): { journal: Journal; rootSync: DirSync } {
    if (!this.journal || !this.rootSync)
      throw new FexError('E_INTERNAL', { reason: 'the storage is not open' });
    return { journal: this.journal, rootSync: this.rootSync };
  }

  /** `data`: the record's bytes are in its journal line, to checkpoint later. */
  private setRecord(record: MetaRecord, data?: string): void {
    this.order.add(record.name, record.owner, this.index.get(record.name)?.owner);
    this.index.set(record.name, record);
    this.keys.set(nameKey(record.name), record.name);
    if (data === undefined) this.checkpointer.drop(record.name);
    else this.checkpointer.add(record, data);
  }

  private forget(name: string): void {
    const record = this.index.get(name);
    if (record) this.order.remove(name, record.owner);
    this.index.delete(name);
    // A file renamed to a name of the same key (a change of case) holds the key now.
    if (this.keys.get(nameKey(name)) === name) this.keys.delete(nameKey(name));
    this.checkpointer.drop(name);
  }

  /** The record of a visible file: none for a missing or expired one. */
  private live(name: string): MetaRecord | undefined {
    const record = this.index.get(name);
    return record && !isExpired(record) ? record : undefined;
  }

  /**
   * Deletes a file and its record; the caller holds the name's turn. File first, journal last: a
   * crash in between leaves a record without a file, which open() drops, rather than a file
   * without a record, which would lose its owner. A reader that opened the file before keeps
   * reading it to its end.
   */
  private async unlink(record: MetaRecord): Promise<void> {
    const { journal, rootSync } = this.opened();
    try {
      await rm(join(this.root, record.name), { force: true });
    } catch (error) {
      throw ioError(error);
    }
    this.forget(record.name);
    try {
      await rootSync.sync();
      await journal.append({ remove: record.name });
    } catch (error) {
      throw ioError(error);
    }
  }
}
