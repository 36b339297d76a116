/**
 * The storage interface. The local directory is the default backend; any other backend must pass
 * the shared suite of test/unit/storage-suite.ts. See docs/storage.md.
 */
import type { Readable } from 'node:stream';
import type { FileEntry } from '../../protocol/constants.js';

export type StoredFile = FileEntry;

/** Which part of the listing `list()` returns: one page of it, a prefix, or all of it. */
export interface ListOptions {
  /** Only names after this one (code point order): the last name of the page before. */
  after?: string;
  /** Only names that start with this. */
  prefix?: string;
  /** At most this many entries. */
  limit?: number;
}

export interface PutOptions {
  /** The handle storing the file; only this owner may later replace it. */
  owner: string;
  /** The size the client announced; the body must match it exactly. */
  size: number;
  /**
   * Whether an upload cut off before `commit()` may be resumed by a later put of the same file.
   * Default true. When false, the backend need not look for bytes held from an earlier upload
   * (`offset` is 0) and `suspend()` discards what arrived, as `abort()` does: for small bodies
   * sent whole with the request, where resuming would cost more than sending again.
   */
  resumable?: boolean;
}

/** An upload written aside, invisible until `commit()`. */
export interface PendingPut {
  /**
   * Bytes already held from an earlier upload of the same file (same owner, name and size) that
   * was cut off; the body continues from here. 0 for a fresh upload, and always 0 for a backend
   * that does not resume.
   */
  readonly offset: number;
  /** SHA-256 of those held bytes when `offset > 0`, so the client can check they are its own. */
  readonly prefixSha256: string | undefined;
  /** Discards the held bytes: the body starts from 0 after all. */
  restart(): Promise<void>;
  /** Streams the body into the aside copy, with backpressure. Resolves with the bytes written. */
  write(body: AsyncIterable<Buffer>): Promise<number>;
  /**
   * Checks size and checksum, flushes, and makes the file visible whole under its name, replacing
   * an older version atomically. Rejects (and keeps nothing) on any mismatch.
   */
  commit(expectedSha256: string): Promise<StoredFile>;
  /** Discards the aside copy. Safe to call more than once, and after a failed commit. */
  abort(): Promise<void>;
  /**
   * The connection broke: keeps what arrived, for a later put of the same file to resume (a
   * backend that does not resume discards it, as abort does). Never makes anything visible.
   */
  suspend(): Promise<void>;
}

export interface Storage {
  /** Prepares the backend: creates what is missing, reconciles what a crash left behind. */
  open(): Promise<void>;
  /**
   * The visible files, ordered by name (code point order): all of them, or the part `options`
   * asks for. A page costs in proportion to its own size, not to the number of files.
   */
  list(options?: ListOptions): Promise<StoredFile[]>;
  /** How many files are visible: all, or those `owner` owns (null: the operator's). */
  count(owner?: string | null): number;
  stat(name: string): Promise<StoredFile | undefined>;
  /**
   * Starts an upload. Rejects with E_NOT_OWNER when the name belongs to another owner and with
   * E_NAME_CLASH when it differs only in case or Unicode form from a stored name.
   */
  put(name: string, options: PutOptions): Promise<PendingPut>;
  /**
   * A consistent snapshot of one file from byte `start` (default 0) to its end: replacing the
   * file meanwhile does not affect this reader.
   */
  read(name: string, start?: number): Promise<{ file: StoredFile; stream: Readable }>;
  remove(name: string, owner: string): Promise<void>;
  close(): Promise<void>;
}
