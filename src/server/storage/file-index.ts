/**
 * The file index of a storage backend whose bytes live elsewhere (an object store): which name
 * points to which object, whose it is, its size, checksum and times, and the uploads in progress.
 * Each change that decides ownership (a commit, a removal, a rename) is one atomic operation of
 * the index, so several servers sharing one index (Redis) agree on every name without a lock of
 * their own. Two implementations pass one contract suite (src/testing/file-index-contract.ts): the
 * in-process `LocalFileIndex`, persisted in the server's folder, and the shared `RedisFileIndex`.
 */
import type { ListOptions, StoredFile } from './storage.js';

/** A stored file and the private object holding its bytes. */
export interface IndexedFile extends StoredFile {
  /** The object key of the bytes; never shared by two versions. */
  object: string;
}

/** One part of a multipart upload in progress, as the object store acknowledged it. */
export interface HeldPart {
  number: number;
  etag: string;
  size: number;
  /**
   * SHA-256 (hex) of the whole file's bytes up to the end of this part; absent when the server
   * that uploaded it had resumed the upload from another server, without the hash state.
   */
  prefixSha256?: string;
}

/** An upload cut off (or running), for any server to resume from its parts. */
export interface PartialUpload {
  /** Derived from (owner, name, size): the same file stored again finds it. */
  id: string;
  owner: string;
  name: string;
  size: number;
  /** The private object key it will be completed under. */
  object: string;
  /** The object store's multipart upload id. */
  uploadId: string;
  parts: HeldPart[];
  /**
   * Bumped by every takeover: a server resuming it takes it over, and the server that held it
   * before can no longer record parts (savePartial refuses a stale generation).
   */
  generation: number;
  /** When it last changed, ms since the epoch; the partial-upload expiry counts from here. */
  updated: number;
}

/** What a commit, removal or rename replaced or removed: the object to delete after the switch. */
export interface Displaced {
  /** The record the name held before (a replaced or expired version), if any. */
  previous?: IndexedFile;
}

/** What a rename gives: the record under its new name, and an expired record it displaced. */
export type Renamed = { file: IndexedFile } & Displaced;

/**
 * How long the index remembers an object it handed out as an orphan (claimOrphans): a commit
 * naming it within this time is refused. Far longer than any gap between an object's completion
 * and its commit (milliseconds; seconds while the index retries).
 */
export const ORPHAN_MARK_MS = 7 * 24 * 60 * 60 * 1000;

export interface FileIndex {
  /** Loads or connects; called once before use. */
  open(): Promise<void>;
  close(): Promise<void>;
  /** The record of `name` whatever its expiry (callers check it), or undefined. */
  get(name: string): Promise<IndexedFile | undefined>;
  /**
   * One page of records in code point order (UTF-8 byte order), expired ones included: the
   * storage skips them and asks for the names after.
   */
  page(options: ListOptions): Promise<IndexedFile[]>;
  /** Records stored: all, or `owner`'s (null: the operator's); expired ones until removed. */
  count(owner?: string | null): Promise<number>;
  /**
   * Atomically: refuses with E_NOT_OWNER when a live file of the name belongs to someone else,
   * with E_NAME_CLASH when a live file's name differs only in case or Unicode form; else points
   * the name at `file.object`. Resolves with the record replaced (the caller deletes its object).
   * With `partial`, the upload's record is dropped in the same step.
   */
  commit(file: IndexedFile, now: number, partial?: string): Promise<Displaced>;
  /** The same checks as commit(), without changing anything: put() refuses early. */
  check(name: string, owner: string, now: number): Promise<void>;
  /**
   * Atomically removes `name` (E_NOT_FOUND when missing or expired, E_NOT_OWNER when `owner` is
   * given and is not its owner). Resolves with the record removed.
   */
  remove(name: string, owner: string | undefined, now: number): Promise<IndexedFile>;
  /**
   * Atomically gives `owner`'s `from` the name `to` (the errors of Storage.rename). Resolves with
   * the renamed record and an expired record `to` held, whose object the caller deletes.
   */
  rename(from: string, to: string, owner: string, now: number): Promise<Renamed>;
  /** Atomically removes `name` if its expiry time has come by `now`; resolves with it if so. */
  expireOne(name: string, now: number): Promise<IndexedFile | undefined>;
  /** Names whose expiry is at or before `now` (at most `limit`), and the earliest expiry after. */
  due(now: number, limit: number): Promise<{ names: string[]; next: number | undefined }>;

  /** Takes the partial upload over (bumping its generation); undefined if there is none. */
  takePartial(id: string, now: number): Promise<PartialUpload | undefined>;
  /**
   * Records the partial upload if its generation is still the stored one (or it is new and
   * `generation` is 0); false when another server took it over meanwhile.
   */
  savePartial(partial: PartialUpload): Promise<boolean>;
  /**
   * Forgets the partial upload if its generation is still `generation`; true if it did (the
   * caller may then abort the multipart upload: nobody else holds it).
   */
  dropPartial(id: string, generation: number): Promise<boolean>;
  /** Partial uploads not changed since `before`: abandoned, to abort. */
  stalePartials(before: number): Promise<PartialUpload[]>;
  /**
   * Atomically, for each object key: when no file and no partial upload names it, marks it as an
   * orphan (from then on commit() refuses to point a name at it, with E_INTERNAL) and hands it
   * back for the caller to delete. An object another server claimed at or after `retryBefore`
   * is left to it; marks older than ORPHAN_MARK_MS are forgotten.
   */
  claimOrphans(objects: string[], now: number, retryBefore: number): Promise<string[]>;
}
