/**
 * The local backend's metadata: an append-only file of JSON lines, one per committed record and
 * one per removal, kept open for the server's lifetime. Appends are group-committed: every append
 * waiting when a flush starts goes down in one positional write and one fdatasync, so concurrent
 * commits share the cost of the flush. When the file has grown well past the live records it is
 * compacted: the live lines are written to a fresh file that is renamed over it. Flushes and
 * compaction run one at a time, and compaction writes what every flushed line left, so no append
 * is lost. A small store's line also carries its bytes until a checkpoint appends the record again
 * without them (see wal.ts); the live line of a name is its last, so compaction keeps the bytes of
 * records not yet checkpointed and only those.
 */
import { constants } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir } from './fs-helpers.js';
import { GroupCommit } from './group-commit.js';
import type { MetaRecord } from './meta-record.js';

export type JournalEntry = MetaRecord | { remove: string };

interface Line {
  name: string;
  text: string;
  /** false for a removal */
  live: boolean;
  /** A rename's old name, which the line removes. */
  from?: string;
}

const WRITE_CHUNK_BYTES = 1024 * 1024;

/** Lines past which the journal is compacted: enough that compaction stays rare and amortised. */
const compactionThreshold = (live: number) => 4 * live + 1000;

export class Journal {
  private readonly group = new GroupCommit<Line>((lines) =>
    this.exclusive(() => this.write(lines)),
  );
  /** Flushes and compactions, one after the other. */
  private queue: Promise<void> = Promise.resolve();
  private lines: number;
  private compactAt: number;
  private compacting = false;
  private closed = false;

  private constructor(
    private readonly path: string,
    private handle: FileHandle,
    /** Bytes of whole, flushed lines: the next batch goes exactly here. */
    private size: number,
    /** name -> its record's line, for compaction */
    private readonly live: Map<string, string>,
    lines = live.size,
  ) {
    this.lines = lines;
    this.compactAt = compactionThreshold(live.size);
  }

  /**
   * Opens the journal at `path` (created if missing) to append after its whole lines, without
   * rewriting it: start-up must work on a full disk, where no rewrite can. `records` and `logged`
   * are what replaying it gave (each name's live record, and the bytes its live line carries);
   * `lines` how many lines it has, for compactIfStale().
   */
  static async open(
    path: string,
    records: ReadonlyMap<string, MetaRecord>,
    logged: ReadonlyMap<string, string>,
    lines: number,
  ): Promise<Journal> {
    // A compaction cut off by a crash: the journal itself was never replaced by it.
    await rm(`${path}.new`, { force: true });
    const handle = await openOrCreate(path);
    try {
      const size = await wholeLinesLength(handle);
      // A line torn by a crash (never acknowledged) must not run into the next one appended.
      if (size < (await handle.stat()).size) await handle.truncate(size);
      const live = new Map<string, string>();
      for (const [name, record] of records) live.set(name, lineOf(record, logged.get(name)));
      return new Journal(path, handle, size, live, lines);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  /** Replaces whatever journal is at `path` by one holding exactly `records`, durably. */
  static async create(path: string, records: Iterable<MetaRecord>): Promise<Journal> {
    const live = new Map<string, string>();
    for (const record of records) live.set(record.name, lineOf(record));
    const { handle, size } = await writeAside(path, live.values());
    try {
      await rename(`${path}.new`, path);
      await fsyncDir(dirname(path));
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
    return new Journal(path, handle, size, live);
  }

  /**
   * Resolves once the entry is on disk, flushed. `data` (base64): the file's bytes, for a record
   * whose file is not flushed yet. `from`: the record is a rename of the file called `from`; the
   * one line moves it, so no crash can leave both names or neither (journal-replay.ts).
   */
  append(entry: JournalEntry, data?: string, from?: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the metadata journal is closed'));
    const line: Line =
      'remove' in entry
        ? { name: entry.remove, text: `${JSON.stringify({ remove: entry.remove })}\n`, live: false }
        : { name: entry.name, text: lineOf(entry, data, from), live: true, from };
    return this.group.submit(line);
  }

  /**
   * The rename that `record`'s live line carries is done on disk: compaction may keep the record
   * alone. Until then it keeps the rename, so a compacted journal still tells open() to finish a
   * rename that a crash cut between its line and the file's own rename.
   */
  renamed(record: MetaRecord, data?: string): void {
    if (this.live.has(record.name)) this.live.set(record.name, lineOf(record, data));
  }

  /** Waits for the appends already made (and a compaction under way), then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.group.idle();
    await this.queue;
    await this.handle.close();
  }

  private exclusive(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async write(lines: Line[]): Promise<void> {
    const bytes = Buffer.from(lines.map((line) => line.text).join(''), 'utf8');
    try {
      await writeAt(this.handle, bytes, this.size);
      await this.handle.datasync();
    } catch (error) {
      // Cut off what may have reached the file, so no torn line sits before the next batch's.
      await this.handle.truncate(this.size).catch(() => undefined);
      throw error;
    }
    this.size += bytes.length;
    this.lines += lines.length;
    for (const line of lines) {
      if (line.from !== undefined) this.live.delete(line.from);
      if (line.live) this.live.set(line.name, line.text);
      else this.live.delete(line.name);
    }
    if (this.lines > this.compactAt) this.compactSoon();
  }

  /**
   * Compacts in the background if any line is superseded: after open() the server listens at once,
   * and on a full disk the compaction fails harmlessly.
   */
  compactIfStale(): void {
    if (this.lines > this.live.size) this.compactSoon();
  }

  /** Queues a compaction behind the flush under way and ahead of the next, which waits for it. */
  private compactSoon(): void {
    if (this.compacting) return;
    this.compacting = true;
    void this.exclusive(() => this.compact());
  }

  private async compact(): Promise<void> {
    try {
      const { handle, size } = await writeAside(this.path, this.live.values());
      try {
        await rename(`${this.path}.new`, this.path);
      } catch (error) {
        await handle.close().catch(() => undefined);
        throw error;
      }
      // From the rename on, the fresh file is the journal: later lines must go there.
      const old = this.handle;
      this.handle = handle;
      this.size = size;
      this.lines = this.live.size;
      this.compactAt = compactionThreshold(this.live.size);
      await old.close().catch(() => undefined);
      await fsyncDir(dirname(this.path));
    } catch {
      // Compaction only saves space and start-up time; the journal stays valid without it.
      this.compactAt = this.lines + compactionThreshold(0);
    } finally {
      this.compacting = false;
    }
  }
}

function lineOf(record: MetaRecord, data?: string, from?: string): string {
  const { name, size, owner, time, sha256, mtimeMs, expires } = record;
  const text = JSON.stringify({ name, size, owner, time, sha256, mtimeMs, expires, data, from });
  return `${text}\n`;
}

/** Writes `lines` to `<path>.new` and flushes it; the caller renames it into place. */
async function writeAside(
  path: string,
  lines: Iterable<string>,
): Promise<{ handle: FileHandle; size: number }> {
  const aside = `${path}.new`;
  const handle = await open(aside, 'w', 0o600);
  try {
    let size = 0;
    let chunk: string[] = [];
    let chunkLength = 0;
    const flushChunk = async () => {
      const bytes = Buffer.from(chunk.join(''), 'utf8');
      await writeAt(handle, bytes, size);
      size += bytes.length;
      chunk = [];
      chunkLength = 0;
    };
    for (const line of lines) {
      chunk.push(line);
      chunkLength += line.length;
      if (chunkLength >= WRITE_CHUNK_BYTES) await flushChunk();
    }
    if (chunkLength > 0) await flushChunk();
    await handle.datasync();
    return { handle, size };
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(aside, { force: true });
    throw error;
  }
}

/**
 * Opens the journal for reading and writing; a new one's folder entry is flushed at once, or a
 * power cut could lose the whole file after its first acknowledged line.
 */
async function openOrCreate(path: string): Promise<FileHandle> {
  try {
    return await open(path, constants.O_RDWR);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const handle = await open(path, constants.O_RDWR | constants.O_CREAT, 0o600);
  try {
    await fsyncDir(dirname(path));
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
  return handle;
}

/** The length of the file up to its last newline: its whole lines. */
async function wholeLinesLength(handle: FileHandle): Promise<number> {
  let end = (await handle.stat()).size;
  const chunk = Buffer.alloc(64 * 1024);
  while (end > 0) {
    const start = Math.max(0, end - chunk.length);
    const { bytesRead } = await handle.read(chunk, 0, end - start, start);
    const newline = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (newline >= 0) return start + newline + 1;
    end = start;
  }
  return 0;
}

async function writeAt(handle: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}
