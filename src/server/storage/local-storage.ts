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
import { createHash, randomBytes } from 'node:crypto';
import { constants, renameSync } from 'node:fs';
import { open, readdir, mkdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FexError } from '../../protocol/errors.js';
import { nameKey, nameProblem, RESERVED_DIR } from '../../protocol/names.js';
import { Checkpointer, type CheckpointHost } from './checkpoint.js';
import { DirSync } from './dir-sync.js';
import { hashFile, ioError } from './fs-helpers.js';
import { Journal } from './journal.js';
import { replayJournal } from './journal-replay.js';
import { readLegacyMeta } from './legacy-meta.js';
import { LocalPendingPut } from './local-pending-put.js';
import { NameOrder } from './name-order.js';
import type { MetaRecord } from './meta-record.js';
import { reconcile } from './reconcile.js';
import type { ListOptions, PendingPut, PutOptions, Storage, StoredFile } from './storage.js';
import { SmallPendingPut } from './small-pending-put.js';
import { restoreLogged } from './wal-restore.js';
import { WAL_MAX_BYTES } from './wal.js';

export interface LocalStorageOptions {
  /** How long an interrupted upload is kept for resuming, in milliseconds. Default one day. */
  partialTtlMs?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

export class LocalStorage implements Storage, CheckpointHost {
  private readonly tmpDir: string;
  private readonly partialDir: string;
  private readonly journalPath: string;
  /** The folder of the layout before the journal, migrated and deleted by open(). */
  private readonly legacyMetaDir: string;
  private readonly index = new Map<string, MetaRecord>();
  /** The index's names in listing order, and each owner's count. */
  private readonly order = new NameOrder();
  /** nameKey -> name, to find case and Unicode-form clashes without a scan. */
  private readonly keys = new Map<string, string>();
  /** Aside files an upload is writing now; a second upload of the same file must not share one. */
  private readonly active = new Set<string>();
  private readonly partialTtlMs: number;
  private readonly tmpPrefix = randomBytes(6).toString('hex');
  private tmpCount = 0;
  private sweeper: NodeJS.Timeout | undefined;
  /**
   * Commits of one name run one after the other, in the order they were called, so the owner
   * check and rename are atomic. Keyed by nameKey: of two concurrent commits of clashing names,
   * the second must see the first.
   */
  private readonly commitLocks = new Map<string, Promise<unknown>>();
  /** Commits from their flush to their answer, for close() to wait for. */
  private readonly commits = new Set<Promise<unknown>>();
  private journal: Journal | undefined;
  private rootSync: DirSync | undefined;
  /** The small stores whose bytes only the journal holds durably yet. */
  private readonly checkpointer = new Checkpointer(this);

  constructor(
    readonly root: string,
    options: LocalStorageOptions = {},
  ) {
    this.tmpDir = join(root, RESERVED_DIR, 'tmp');
    this.partialDir = join(root, RESERVED_DIR, 'partial');
    this.journalPath = join(root, RESERVED_DIR, 'journal');
    this.legacyMetaDir = join(root, RESERVED_DIR, 'meta');
    this.partialTtlMs = options.partialTtlMs ?? DAY_MS;
  }

  async open(): Promise<void> {
    for (const dir of [this.tmpDir, this.partialDir]) await mkdir(dir, { recursive: true });
    // Unresumable uploads from before a crash or kill can never complete: their clients are gone.
    for (const stale of await readdir(this.tmpDir))
      await rm(join(this.tmpDir, stale), { force: true });
    await this.sweepPartials();
    this.sweeper = setInterval(
      () => void this.sweepPartials(),
      Math.min(this.partialTtlMs, 3_600_000),
    );
    this.sweeper.unref();
    // Records of the old layout first, so the journal's lines, written after them, win.
    const records = await readLegacyMeta(this.legacyMetaDir);
    const logged = new Map<string, string>();
    await replayJournal(this.journalPath, records, logged);
    // Small stores whose bytes only the journal holds: restored and flushed (checkpointed) before
    // the journal is rewritten without their bytes.
    await restoreLogged(this.root, this.tmpDir, records, logged);
    const found = await reconcile(this.root, records);
    // The reconciled records become the whole journal before the old layout may go.
    this.journal = await Journal.create(this.journalPath, found.values());
    await rm(this.legacyMetaDir, { recursive: true, force: true });
    this.rootSync = await DirSync.open(this.root);
    for (const record of found.values()) this.setRecord(record);
  }

  async list(options: ListOptions = {}): Promise<StoredFile[]> {
    return this.order.slice(options).map((name) => publicView(this.index.get(name) as MetaRecord));
  }

  count(owner?: string | null): number {
    return owner === undefined ? this.order.size : this.order.countOf(owner);
  }

  async stat(name: string): Promise<StoredFile | undefined> {
    const record = this.index.get(name);
    return record && publicView(record);
  }

  async put(name: string, options: PutOptions): Promise<PendingPut> {
    // Plugins reach storage directly: a name like "../x" must never become a path here.
    const problem = nameProblem(name);
    if (problem) throw new FexError('E_BAD_NAME', { name, reason: problem });
    this.checkReplace(name, options.owner);
    if (options.resumable === false) return this.putUnresumable(name, options);
    const resumable = join(
      this.partialDir,
      `${sha256Hex(`${options.owner}\0${name}\0${options.size}`)}.part`,
    );
    const path = this.active.has(resumable) ? this.tmpPath() : resumable;
    this.active.add(path);
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
      const keep = path === resumable;
      return new LocalPendingPut(this, name, options, path, handle, hash, offset, keep);
    } catch (error) {
      await handle?.close().catch(() => undefined);
      this.active.delete(path);
      throw ioError(error);
    }
  }

  /** A fresh aside file, with no earlier bytes to look for and none kept when cut off. */
  private async putUnresumable(name: string, options: PutOptions): Promise<PendingPut> {
    const path = this.tmpPath();
    if (options.size <= WAL_MAX_BYTES) return new SmallPendingPut(this, name, options, path);
    let handle: FileHandle;
    try {
      // 'ax': created here or failing (like 'wx'), and appending so restart()'s truncate rewinds.
      handle = await open(path, 'ax', 0o644);
    } catch (error) {
      throw ioError(error);
    }
    return new LocalPendingPut(this, name, options, path, handle, createHash('sha256'), 0, false);
  }

  /**
   * A fresh name in `.fex/tmp`: this process's random prefix and a counter. Files there are
   * opened with O_EXCL and swept at open(), so a name only has to be unique, not unguessable,
   * and a counter costs nothing where random bytes cost ~30 µs a store.
   */
  private tmpPath(): string {
    return join(this.tmpDir, `${this.tmpPrefix}-${(this.tmpCount++).toString(36)}.part`);
  }

  async read(name: string, start = 0): Promise<{ file: StoredFile; stream: Readable }> {
    const record = this.index.get(name);
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
    const info = await handle.stat();
    if (!info.isFile() || info.size !== record.size) {
      await handle.close();
      throw new FexError('E_INTERNAL', { reason: `${name} changed on disk outside fex` });
    }
    return {
      file: publicView(record),
      stream: handle.createReadStream({
        start: Math.min(start, record.size),
        // 1 MiB reads: a quarter of the round trips and fresh buffers of 256 KiB reads, for the
        // same memory bound (docs/performance.md).
        highWaterMark: 1024 * 1024,
      }),
    };
  }

  async remove(name: string, owner: string): Promise<void> {
    const { journal, rootSync } = this.opened();
    await this.locked(name, async () => {
      const record = this.index.get(name);
      if (!record) throw new FexError('E_NOT_FOUND', { name });
      if (record.owner !== owner)
        throw new FexError('E_NOT_OWNER', { name, owner: record.owner ?? 'the server operator' });
      // File first, journal last: a crash in between leaves a record without a file, which
      // open() drops, rather than a file without a record, which would lose its owner.
      try {
        await rm(join(this.root, name), { force: true });
      } catch (error) {
        throw ioError(error);
      }
      this.forget(name);
      try {
        await rootSync.sync();
        await journal.append({ remove: name });
      } catch (error) {
        throw ioError(error);
      }
    });
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.allSettled(this.commits);
    await Promise.allSettled(this.commitLocks.values());
    // A failed checkpoint loses nothing: the journal keeps the bytes for the next open().
    if (this.journal && this.checkpointer.size > 0) await this.checkpoint().catch(() => undefined);
    await this.checkpointer.idle();
    await this.journal?.close();
    await this.rootSync?.close();
  }

  /**
   * @internal used by LocalPendingPut: runs a commit after the commits of the same or a clashing
   * name called before it, so of two clashing names the first committed wins; close() waits for it.
   */
  commitInTurn<T>(name: string, task: () => Promise<T>): Promise<T> {
    const commit = this.locked(name, task);
    this.commits.add(commit);
    const untrack = () => this.commits.delete(commit);
    commit.then(untrack, untrack);
    return commit;
  }

  /**
   * @internal Checkpoints the small stores committed so far (see checkpoint.ts); runs by itself in
   * the background and at close(). Exposed for tests.
   */
  checkpoint(): Promise<void> {
    return this.checkpointer.run();
  }

  /** @internal used by Checkpointer */
  syncRoot(): Promise<void> {
    return this.opened().rootSync.sync();
  }

  /** @internal used by Checkpointer: in turn with the name's commits, so lines stay in order. */
  settle(logged: MetaRecord, flushed: MetaRecord): Promise<boolean> {
    return this.locked(logged.name, async () => {
      if (this.index.get(logged.name) !== logged) return false;
      await this.opened().journal.append(flushed);
      this.index.set(logged.name, flushed);
      return true;
    });
  }

  /** @internal used by LocalPendingPut: whether a small store may log its bytes now. */
  mayLog(): boolean {
    return this.checkpointer.hasRoom();
  }

  /** @internal used by LocalPendingPut */
  release(asidePath: string): void {
    this.active.delete(asidePath);
  }

  /** @internal used by LocalPendingPut */
  checkReplace(name: string, owner: string): void {
    const existing = this.index.get(name);
    if (existing && existing.owner !== owner)
      throw new FexError('E_NOT_OWNER', { name, owner: existing.owner ?? 'the server operator' });
    const other = existing ? undefined : this.keys.get(nameKey(name));
    if (other !== undefined) throw new FexError('E_NAME_CLASH', { existing: other });
  }

  /**
   * @internal used by LocalPendingPut, inside commitInTurn(). With `data` (the bytes, base64, of a
   * small store whose file was not flushed) the journal line is the durable copy: no root fsync,
   * since open() rewrites the file from the line if the rename (or the data) was lost.
   */
  async install(record: MetaRecord, asidePath: string, data?: string): Promise<void> {
    const { journal, rootSync } = this.opened();
    this.checkReplace(record.name, record.owner ?? '');
    const previous = this.index.get(record.name);
    try {
      await journal.append(record, data);
    } catch (error) {
      throw ioError(error);
    }
    try {
      // A logged store's rename need not be durable, and a direct call costs a fraction of a
      // thread-pool round trip (small-pending-put.ts).
      if (data === undefined) await rename(asidePath, join(this.root, record.name));
      else renameSync(asidePath, join(this.root, record.name));
    } catch (error) {
      // Best effort: the journal should describe the file that stayed (with its bytes, if they are
      // not checkpointed yet, or replay would resurrect this failed commit's); open() copes if not.
      const restore = previous
        ? journal.append(previous, this.checkpointer.dataOf(previous))
        : journal.append({ remove: record.name });
      await restore.catch(() => undefined);
      throw ioError(error);
    }
    if (data === undefined) {
      try {
        await rootSync.sync();
      } catch (error) {
        throw ioError(error);
      }
    }
    this.setRecord(record, data);
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
    this.keys.delete(nameKey(name));
    this.checkpointer.drop(name);
  }

  /** Removes interrupted uploads nobody resumed in time. */
  private async sweepPartials(): Promise<void> {
    const cutoff = Date.now() - this.partialTtlMs;
    for (const file of await readdir(this.partialDir).catch(() => [])) {
      const path = join(this.partialDir, file);
      if (this.active.has(path)) continue;
      const info = await stat(path).catch(() => undefined);
      if (info && info.mtimeMs < cutoff) await rm(path, { force: true });
    }
  }

  private locked<T>(fileName: string, task: () => Promise<T>): Promise<T> {
    const name = nameKey(fileName);
    const previous = this.commitLocks.get(name) ?? Promise.resolve();
    const run = previous.then(task, task);
    const settled = run.catch(() => undefined);
    this.commitLocks.set(name, settled);
    void settled.then(() => {
      if (this.commitLocks.get(name) === settled) this.commitLocks.delete(name);
    });
    return run;
  }
}

function publicView(record: MetaRecord): StoredFile {
  return {
    name: record.name,
    size: record.size,
    owner: record.owner,
    time: record.time,
    sha256: record.sha256,
  };
}
