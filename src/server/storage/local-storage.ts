/**
 * The default backend: files live in the server directory under their own names, so an operator
 * sees them on disk; bookkeeping lives in the reserved `.fex` folder beside them:
 *
 *   .fex/tmp/   uploads in progress, written aside and renamed into place when verified
 *   .fex/meta/  one JSON record per file (owner, size, checksum, stored time), named by a hash
 *               of the file name so any valid name maps to a short, safe record name
 *
 * Order of a commit: fsync the data, write and fsync the record, rename the record, rename the
 * data, fsync both folders. A crash between the two renames leaves a record that does not match
 * the file's size and mtime; open() notices and re-hashes the file (the owner cannot differ,
 * since only the owner may replace a file).
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import {
  open,
  readdir,
  lstat,
  mkdir,
  rename,
  rm,
  readFile,
  type FileHandle,
} from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FexError } from '../../protocol/errors.js';
import { nameKey, nameProblem, RESERVED_DIR } from '../../protocol/names.js';
import type { PendingPut, PutOptions, Storage, StoredFile } from './storage.js';

interface MetaRecord extends StoredFile {
  mtimeMs: number;
}

function recordName(name: string): string {
  return `${createHash('sha256').update(name, 'utf8').digest('hex')}.json`;
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function ioError(error: unknown): FexError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new FexError('E_DISK_FULL');
  return new FexError('E_INTERNAL', { reason: code ?? String(error) });
}

export class LocalStorage implements Storage {
  private readonly tmpDir: string;
  private readonly metaDir: string;
  private readonly index = new Map<string, MetaRecord>();
  /** Commits of one name run one after the other, so the owner check and rename are atomic. */
  private readonly commitLocks = new Map<string, Promise<unknown>>();

  constructor(readonly root: string) {
    this.tmpDir = join(root, RESERVED_DIR, 'tmp');
    this.metaDir = join(root, RESERVED_DIR, 'meta');
  }

  async open(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true });
    await mkdir(this.metaDir, { recursive: true });
    // Partial uploads from before a crash or kill can never complete: their clients are gone.
    for (const stale of await readdir(this.tmpDir))
      await rm(join(this.tmpDir, stale), { force: true });
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
          time: record?.time ?? info.mtimeMs,
          sha256: await hashFile(path),
          mtimeMs: info.mtimeMs,
        };
        await this.writeRecord(record);
      }
      records.delete(name);
      this.index.set(name, record);
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
    const tmpPath = join(this.tmpDir, `${randomBytes(12).toString('hex')}.part`);
    let handle: FileHandle;
    try {
      handle = await open(tmpPath, 'wx', 0o644);
    } catch (error) {
      throw ioError(error);
    }
    return new LocalPendingPut(this, name, options, tmpPath, handle);
  }

  async read(name: string): Promise<{ file: StoredFile; stream: Readable }> {
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
        this.index.delete(name);
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
      stream: handle.createReadStream({ highWaterMark: 256 * 1024 }),
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
      this.index.delete(name);
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.commitLocks.values());
  }

  /** @internal used by LocalPendingPut */
  checkReplace(name: string, owner: string): void {
    const existing = this.index.get(name);
    if (existing && existing.owner !== owner)
      throw new FexError('E_NOT_OWNER', { name, owner: existing.owner ?? 'the server operator' });
    if (!existing) {
      const key = nameKey(name);
      for (const other of this.index.keys())
        if (nameKey(other) === key) throw new FexError('E_NAME_CLASH', { existing: other });
    }
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
      this.index.set(record.name, record);
    });
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

class LocalPendingPut implements PendingPut {
  private readonly hash = createHash('sha256');
  private written = 0;
  private finished = false;

  constructor(
    private readonly storage: LocalStorage,
    private readonly name: string,
    private readonly options: PutOptions,
    private readonly tmpPath: string,
    private readonly handle: FileHandle,
  ) {}

  async write(body: AsyncIterable<Buffer>): Promise<number> {
    try {
      for await (const chunk of body) {
        this.hash.update(chunk);
        this.written += chunk.length;
        if (this.written > this.options.size) break;
        // Awaiting each write is the backpressure: the socket is not read meanwhile.
        await this.handle.write(chunk);
      }
    } catch (error) {
      if (error instanceof FexError) throw error;
      throw ioError(error);
    }
    return this.written;
  }

  async commit(expectedSha256: string): Promise<StoredFile> {
    try {
      if (this.written !== this.options.size)
        throw new FexError('E_SIZE', {
          name: this.name,
          got: this.written,
          expected: this.options.size,
        });
      const sha256 = this.hash.digest('hex');
      if (sha256 !== expectedSha256) throw new FexError('E_CHECKSUM', { name: this.name });
      try {
        await this.handle.sync();
      } catch (error) {
        throw ioError(error);
      }
      const info = await this.handle.stat();
      await this.handle.close();
      this.finished = true;
      const record: MetaRecord = {
        name: this.name,
        size: this.written,
        owner: this.options.owner,
        time: Date.now(),
        sha256,
        mtimeMs: info.mtimeMs,
      };
      await this.storage.install(record, this.tmpPath);
      return publicView(record);
    } catch (error) {
      await this.abort();
      throw error;
    }
  }

  async abort(): Promise<void> {
    if (!this.finished) {
      this.finished = true;
      await this.handle.close().catch(() => undefined);
    }
    await rm(this.tmpPath, { force: true });
  }
}
