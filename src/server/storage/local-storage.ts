/**
 * The default backend: files live in the server directory under their own names, so an operator
 * sees them on disk; bookkeeping lives in the reserved `.fex` folder beside them:
 *
 *   .fex/partial/  uploads in progress, written aside and renamed into place when verified; one
 *                  interrupted by a lost connection stays here, named by a hash of (owner, name,
 *                  size), until the same upload resumes it or it is older than `partialTtlMs`
 *   .fex/tmp/      uploads that cannot be resumed (a second concurrent upload of the same file)
 *   .fex/meta/     one JSON record per file (owner, size, checksum, stored time), named by a hash
 *                  of the file name so any valid name maps to a short, safe record name
 *
 * Order of a commit: fsync the data, write and fsync the record, rename the record, rename the
 * data, fsync both folders. A crash between the two renames leaves a record that does not match
 * the file's size and mtime; open() notices and re-hashes the file (the owner cannot differ,
 * since only the owner may replace a file).
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import {
  open,
  readdir,
  lstat,
  mkdir,
  rename,
  rm,
  readFile,
  stat,
  type FileHandle,
} from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FexError } from '../../protocol/errors.js';
import { nameKey, nameProblem, RESERVED_DIR } from '../../protocol/names.js';
import { fsyncDir, hashFile, ioError } from './fs-helpers.js';
import { LocalPendingPut } from './local-pending-put.js';
import type { PendingPut, PutOptions, Storage, StoredFile } from './storage.js';

interface MetaRecord extends StoredFile {
  mtimeMs: number;
}

export interface LocalStorageOptions {
  /** How long an interrupted upload is kept for resuming, in milliseconds. Default one day. */
  partialTtlMs?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

function recordName(name: string): string {
  return `${sha256Hex(name)}.json`;
}

export class LocalStorage implements Storage {
  private readonly tmpDir: string;
  private readonly partialDir: string;
  private readonly metaDir: string;
  private readonly index = new Map<string, MetaRecord>();
  /** nameKey -> name, to find case and Unicode-form clashes without a scan. */
  private readonly keys = new Map<string, string>();
  /** Aside files an upload is writing now; a second upload of the same file must not share one. */
  private readonly active = new Set<string>();
  private readonly partialTtlMs: number;
  private sweeper: NodeJS.Timeout | undefined;
  /** Commits of one name run one after the other, so the owner check and rename are atomic. */
  private readonly commitLocks = new Map<string, Promise<unknown>>();

  constructor(
    readonly root: string,
    options: LocalStorageOptions = {},
  ) {
    this.tmpDir = join(root, RESERVED_DIR, 'tmp');
    this.partialDir = join(root, RESERVED_DIR, 'partial');
    this.metaDir = join(root, RESERVED_DIR, 'meta');
    this.partialTtlMs = options.partialTtlMs ?? DAY_MS;
  }

  async open(): Promise<void> {
    for (const dir of [this.tmpDir, this.partialDir, this.metaDir])
      await mkdir(dir, { recursive: true });
    // Unresumable uploads from before a crash or kill can never complete: their clients are gone.
    for (const stale of await readdir(this.tmpDir))
      await rm(join(this.tmpDir, stale), { force: true });
    await this.sweepPartials();
    this.sweeper = setInterval(
      () => void this.sweepPartials(),
      Math.min(this.partialTtlMs, 3_600_000),
    );
    this.sweeper.unref();
    const records = new Map<string, MetaRecord>();
    for (const file of await readdir(this.metaDir)) {
      try {
        const record = JSON.parse(await readFile(join(this.metaDir, file), 'utf8')) as MetaRecord;
        if (typeof record.name === 'string' && recordName(record.name) === file)
          records.set(record.name, record);
        else await rm(join(this.metaDir, file), { force: true });
      } catch {
        await rm(join(this.metaDir, file), { force: true });
      }
    }
    for (const name of await readdir(this.root)) {
      if (name === RESERVED_DIR || nameProblem(name)) continue;
      const path = join(this.root, name);
      const info = await lstat(path);
      // Symlinks and other non-regular files are never served: they could point outside the root.
      if (!info.isFile()) continue;
      let record = records.get(name);
      if (!record || record.size !== info.size || record.mtimeMs !== info.mtimeMs) {
        record = {
          name,
          size: info.size,
          owner: record?.owner ?? null,
          time: record?.time ?? Math.floor(info.mtimeMs),
          sha256: (await hashFile(path)).digest('hex'),
          mtimeMs: info.mtimeMs,
        };
        await this.writeRecord(record);
      }
      records.delete(name);
      this.setRecord(record);
    }
    for (const orphan of records.keys())
      await rm(join(this.metaDir, recordName(orphan)), { force: true });
  }

  async list(): Promise<StoredFile[]> {
    return [...this.index.values()].sort((a, b) => byCodePoint(a.name, b.name)).map(publicView);
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
    const resumable = join(
      this.partialDir,
      `${sha256Hex(`${options.owner}\0${name}\0${options.size}`)}.part`,
    );
    const path = this.active.has(resumable)
      ? join(this.tmpDir, `${randomBytes(12).toString('hex')}.part`)
      : resumable;
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
      return new LocalPendingPut(this, name, options, path, handle, hash, offset);
    } catch (error) {
      await handle?.close().catch(() => undefined);
      this.active.delete(path);
      throw ioError(error);
    }
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
        highWaterMark: 256 * 1024,
      }),
    };
  }

  async remove(name: string, owner: string): Promise<void> {
    await this.locked(name, async () => {
      const record = this.index.get(name);
      if (!record) throw new FexError('E_NOT_FOUND', { name });
      if (record.owner !== owner)
        throw new FexError('E_NOT_OWNER', { name, owner: record.owner ?? 'the server operator' });
      await rm(join(this.root, name), { force: true });
      await rm(join(this.metaDir, recordName(name)), { force: true });
      this.forget(name);
    });
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.allSettled(this.commitLocks.values());
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

  /** @internal used by LocalPendingPut */
  async install(record: MetaRecord, tmpPath: string): Promise<void> {
    await this.locked(record.name, async () => {
      this.checkReplace(record.name, record.owner ?? '');
      try {
        await this.writeRecord(record);
        await rename(tmpPath, join(this.root, record.name));
        await fsyncDir(this.root);
      } catch (error) {
        throw ioError(error);
      }
      this.setRecord(record);
    });
  }

  private setRecord(record: MetaRecord): void {
    this.index.set(record.name, record);
    this.keys.set(nameKey(record.name), record.name);
  }

  private forget(name: string): void {
    this.index.delete(name);
    this.keys.delete(nameKey(name));
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

  private async writeRecord(record: MetaRecord): Promise<void> {
    const final = join(this.metaDir, recordName(record.name));
    const aside = `${final}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await open(aside, 'wx', 0o600);
    try {
      await handle.writeFile(JSON.stringify(record));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(aside, final);
    await fsyncDir(this.metaDir);
  }

  private locked<T>(name: string, task: () => Promise<T>): Promise<T> {
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

/** Code point order, which is UTF-8 byte order; `<` on strings compares UTF-16 code units. */
function byCodePoint(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
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
