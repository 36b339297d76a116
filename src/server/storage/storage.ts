/**
 * The storage interface. The local directory is the default backend; any other backend must pass
 * the same shared suite in test/unit/storage.test.ts. See docs/storage.md.
 */
import type { Readable } from 'node:stream';
import type { FileEntry } from '../../protocol/constants.js';

export type StoredFile = FileEntry;

export interface PutOptions {
  /** The handle storing the file; only this owner may later replace it. */
  owner: string;
  /** The size the client announced; the body must match it exactly. */
  size: number;
}

/** An upload written aside, invisible until `commit()`. */
export interface PendingPut {
  /** Streams the body into the aside copy, with backpressure. Resolves with the bytes written. */
  write(body: AsyncIterable<Buffer>): Promise<number>;
  /**
   * Checks size and checksum, flushes, and makes the file visible whole under its name, replacing
   * an older version atomically. Rejects (and keeps nothing) on any mismatch.
   */
  commit(expectedSha256: string): Promise<StoredFile>;
  /** Discards the aside copy. Safe to call more than once, and after a failed commit. */
  abort(): Promise<void>;
}

export interface Storage {
  /** Prepares the backend: creates what is missing, reconciles what a crash left behind. */
  open(): Promise<void>;
  /** Every visible file, ordered by name (code point order). */
  list(): Promise<StoredFile[]>;
  stat(name: string): Promise<StoredFile | undefined>;
  /**
   * Starts an upload. Rejects with E_NOT_OWNER when the name belongs to another owner and with
   * E_NAME_CLASH when it differs only in case or Unicode form from a stored name.
   */
  put(name: string, options: PutOptions): Promise<PendingPut>;
  /** A consistent snapshot of one file: replacing it meanwhile does not affect this reader. */
  read(name: string): Promise<{ file: StoredFile; stream: Readable }>;
  remove(name: string, owner: string): Promise<void>;
  close(): Promise<void>;
}
