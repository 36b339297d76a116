/**
 * Checkpoints of the write-ahead log (see wal.ts). A small store is acknowledged once its journal
 * line, holding its bytes, is flushed; its file was written but not flushed, and its rename not
 * made durable. A checkpoint makes the files themselves durable: it flushes each one (read-only
 * open, fdatasync, fstat for the real mtime), fsyncs the root once, and then appends each record
 * again without the bytes. From that line on the journal no longer needs them, and its in-memory
 * copy (the live line of each name) drops them, so memory stays bounded by what is not yet
 * checkpointed. A failure anywhere leaves the bytes in the journal, and a later checkpoint retries.
 */
import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { MetaRecord } from './meta-record.js';

/** Not yet checkpointed past this many bytes or records: checkpoint in the background. */
export const CHECKPOINT_BYTES = 2 * 1024 * 1024;
export const CHECKPOINT_RECORDS = 2000;
/**
 * Four times that: small stores take the ordinary path (flushing their own file) until a
 * checkpoint caught up, so the bytes held for the log stay bounded even when the disk lags.
 */
const HARD_LIMIT = 4;
/** Files flushed at once: enough to keep the disk queue busy, few enough to leave thread-pool room. */
const FLUSH_CONCURRENCY = 8;

/** A record whose bytes only the journal holds durably yet. */
export interface Logged {
  record: MetaRecord;
  /** The file's bytes, base64, as in its journal line: re-appended if a later commit fails. */
  data: string;
}

/** What a checkpoint needs from its storage. */
export interface CheckpointHost {
  readonly root: string;
  /** fsyncs the root folder: the renames of the flushed files become durable. */
  syncRoot(): Promise<void>;
  /**
   * Appends `flushed` (the record without bytes, with its real mtime) if `logged` is still the live
   * record of its name, in turn with that name's commits; false if it was replaced or removed.
   */
  settle(logged: MetaRecord, flushed: MetaRecord): Promise<boolean>;
}

export class Checkpointer {
  /** name -> its not-yet-checkpointed record; a name replaced or removed leaves this map. */
  private readonly pending = new Map<string, Logged>();
  private bytes = 0;
  /** Checkpoints run one after the other. */
  private chain: Promise<void> = Promise.resolve();
  /** A background checkpoint is queued or running. */
  private background = false;

  constructor(private readonly host: CheckpointHost) {}

  /**
   * Whether a small store may still log its bytes instead of flushing its file; when not, a
   * checkpoint is under way or starts now.
   */
  hasRoom(): boolean {
    if (
      this.bytes < HARD_LIMIT * CHECKPOINT_BYTES &&
      this.pending.size < HARD_LIMIT * CHECKPOINT_RECORDS
    )
      return true;
    this.inBackground();
    return false;
  }

  /** `record`, committed with its bytes in the journal, becomes its name's live record. */
  add(record: MetaRecord, data: string): void {
    this.drop(record.name);
    this.pending.set(record.name, { record, data });
    this.bytes += record.size;
    if (this.due()) this.inBackground();
  }

  /** The name was replaced by a record without bytes, or removed: nothing left to checkpoint. */
  drop(name: string): void {
    const entry = this.pending.get(name);
    if (!entry) return;
    this.pending.delete(name);
    this.bytes -= entry.record.size;
  }

  /** The bytes logged for `record`, if it is its name's not-yet-checkpointed record. */
  dataOf(record: MetaRecord): string | undefined {
    const entry = this.pending.get(record.name);
    return entry?.record === record ? entry.data : undefined;
  }

  /** How many records are not yet checkpointed. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Checkpoints what is pending now, after any checkpoint under way; rejects if the root cannot be
   * fsynced (the bytes then stay in the journal). Files that cannot be flushed stay pending.
   */
  async run(): Promise<void> {
    await this.serialised();
  }

  /** Settles once every checkpoint started so far has ended. */
  idle(): Promise<void> {
    return this.chain;
  }

  private due(): boolean {
    return this.bytes >= CHECKPOINT_BYTES || this.pending.size >= CHECKPOINT_RECORDS;
  }

  /** Resolves with the number of records checkpointed. */
  private serialised(): Promise<number> {
    const run = this.chain.then(() => this.checkpoint());
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private inBackground(): void {
    if (this.background) return;
    this.background = true;
    void this.serialised()
      .catch(() => 0)
      .then((settled) => {
        this.background = false;
        // Commits went on meanwhile: go again if still due, unless this round made no progress
        // (a failing disk: the next commit past the threshold tries again).
        if (settled > 0 && this.due()) this.inBackground();
      });
  }

  private async checkpoint(): Promise<number> {
    const snapshot = [...this.pending.values()];
    const flushed: Array<{ entry: Logged; mtimeMs: number }> = [];
    await eachLimited(snapshot, FLUSH_CONCURRENCY, async (entry) => {
      // Replaced or removed meanwhile: the newer record has its own state.
      if (this.pending.get(entry.record.name) !== entry) return;
      try {
        const info = await flushFile(join(this.host.root, entry.record.name));
        flushed.push({ entry, mtimeMs: info.mtimeMs });
      } catch {
        // Missing or unreadable: the journal keeps the bytes, open() restores the file.
      }
    });
    if (flushed.length === 0) return 0;
    await this.host.syncRoot();
    let settledCount = 0;
    await Promise.all(
      flushed.map(async ({ entry, mtimeMs }) => {
        const { record } = entry;
        if (this.pending.get(record.name) !== entry) return;
        const settled = await this.host.settle(record, { ...record, mtimeMs }).catch(() => false);
        // Checked again: a commit of the name may have come in after the append.
        if (settled && this.pending.get(record.name) === entry) {
          this.drop(record.name);
          settledCount++;
        }
      }),
    );
    return settledCount;
  }
}

/**
 * Flushes the regular file at `path` (a read-only descriptor flushes the inode like any other) and
 * returns its state after the flush. Rejects for a missing file, a symlink or another kind of file.
 */
export async function flushFile(path: string): Promise<Stats> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    await handle.datasync();
    const info = await handle.stat();
    if (!info.isFile()) throw new Error(`${path} is not a regular file`);
    return info;
  } finally {
    await handle.close();
  }
}

/** Runs `task` on every item, at most `limit` at a time; rejects with the first failure. */
export async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
