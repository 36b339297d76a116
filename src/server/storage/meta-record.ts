/** The bookkeeping the local backend keeps for each stored file, and how a line of it is checked. */
import { FexError } from '../../shared/errors.js';
import type { PutOptions, StoredFile } from './storage.js';

export interface MetaRecord extends StoredFile {
  /** The file's mtime when the record was written: with size, tells a file changed behind fex. */
  mtimeMs: number;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The record in `value` with only its own fields, or undefined when it is not a valid record. */
export function toMetaRecord(value: unknown): MetaRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { name, size, owner, time, sha256, mtimeMs, expires } = value as Record<string, unknown>;
  if (
    typeof name !== 'string' ||
    typeof size !== 'number' ||
    !Number.isSafeInteger(size) ||
    size < 0 ||
    (owner !== null && typeof owner !== 'string') ||
    typeof time !== 'number' ||
    !Number.isFinite(time) ||
    typeof sha256 !== 'string' ||
    !SHA256_HEX.test(sha256) ||
    typeof mtimeMs !== 'number' ||
    !Number.isFinite(mtimeMs) ||
    (expires !== undefined && (typeof expires !== 'number' || !Number.isFinite(expires)))
  )
    return undefined;
  return {
    name,
    size,
    owner,
    time,
    sha256,
    mtimeMs,
    ...(expires === undefined ? {} : { expires }),
  };
}

/** The description of a file committed now: its stored time, and its expiry if it has one. */
export function committedFile(
  name: string,
  size: number,
  options: PutOptions,
  sha256: string,
): StoredFile {
  const time = Date.now();
  const expires = options.ageMs === undefined ? {} : { expires: time + options.ageMs };
  return { name, size, owner: options.owner, time, sha256, ...expires };
}

/** The stored file of a record carrying more (a backend's own fields), as the interface gives it. */
export function publicView(file: StoredFile): StoredFile {
  const { name, size, owner, time, sha256, expires } = file;
  return { name, size, owner, time, sha256, ...(expires === undefined ? {} : { expires }) };
}

/** The refusal of `verb` (replace, delete, rename) on `file` by someone not its owner. */
export function notOwner(file: { name: string; owner: string | null }, verb: string): FexError {
  return new FexError('E_NOT_OWNER', {
    name: file.name,
    owner: file.owner ?? 'the server operator',
    verb,
  });
}

/** A commit refused because the orphan sweep took its object (the upload outlived the expiry). */
export function orphanedObject(name: string): FexError {
  return new FexError('E_INTERNAL', {
    reason: `the bytes of ${name} were removed as an orphan before its commit (the upload took longer than the partial-upload expiry); store it again`,
  });
}

/** Whether the file's expiry time has come by `now`. */
export function isExpired(file: StoredFile, now = Date.now()): boolean {
  return file.expires !== undefined && file.expires <= now;
}
