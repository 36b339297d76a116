/**
 * The storage interface. The local directory is the default backend; any other backend must pass
 * the contract suite that `fex/testing` exports (src/testing/storage-contract.ts), as the local
 * backend and the in-memory reference backend do. See docs/storage.md.
 */
import type { Readable } from 'node:stream';
import type { FileEntry } from '../../protocol/constants.js';
import type { ListOptions } from '../plugin-api.js';

export type StoredFile = FileEntry;
/** The same page options plugins give `files.list()`. */
export type { ListOptions };

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
  /**
   * How long the file is kept, in milliseconds from its stored time; it then vanishes as if
   * deleted. Absent: kept until deleted.
   */
  ageMs?: number;
}

/** What `expire()` did, and when it has work again. */
export interface ExpireResult {
  /** The files removed because their expiry time had come, as they were. */
  expired: StoredFile[];
  /** The earliest expiry time of the files left, if any expires. */
  next: number | undefined;
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
   * asks for. A page costs in proportion to its own size, not to the number of files. A file
   * whose expiry time has come is not visible anywhere (list, read, put's checks) even before
   * `expire()` removes it; a page skips it and is filled from the names after it.
   */
  list(options?: ListOptions): Promise<StoredFile[]>;
  /**
   * How many files are stored: all, or those `owner` owns (null: the operator's). Answered
   * without a scan, for the file limits; a file past its expiry counts until `expire()` removes it.
   * Asynchronous, since a shared index (Redis) is asked over the network.
   */
  count(owner?: string | null): Promise<number>;
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
  /**
   * Deletes the file atomically: a reader opened before still reads the old bytes to the end; a
   * later read gets E_NOT_FOUND. `owner`: the handle asking, which must own it (else
   * E_NOT_OWNER); `undefined` for the server operator, who may delete any file. E_NOT_FOUND when
   * there is no such file. Resolves with the file as it was.
   */
  remove(name: string, owner: string | undefined): Promise<StoredFile>;
  /**
   * Gives `owner`'s file `from` the name `to`, atomically and crash-safely: at any moment, a crash
   * included, the file is under exactly one of the two names, whole. E_NOT_FOUND when there is no
   * `from`, E_NOT_OWNER when another handle owns `from` or `to`, E_NAME_TAKEN when `to` is taken
   * (a rename never replaces a file), E_NAME_CLASH when `to` differs only in case or Unicode form
   * from another stored name, E_BAD_NAME for a name against the rules. Resolves with the file
   * under its new name (stored time, owner and expiry unchanged).
   */
  rename(from: string, to: string, owner: string): Promise<StoredFile>;
  /** Removes every file whose expiry time is at or before `now`. */
  expire(now: number): Promise<ExpireResult>;
  close(): Promise<void>;
}
