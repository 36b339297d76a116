/** The bookkeeping the local backend keeps for each stored file, and how a line of it is checked. */
import type { StoredFile } from './storage.js';

export interface MetaRecord extends StoredFile {
  /** The file's mtime when the record was written: with size, tells a file changed behind fex. */
  mtimeMs: number;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The record in `value` with only its own fields, or undefined when it is not a valid record. */
export function toMetaRecord(value: unknown): MetaRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { name, size, owner, time, sha256, mtimeMs } = value as Record<string, unknown>;
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
    !Number.isFinite(mtimeMs)
  )
    return undefined;
  return { name, size, owner, time, sha256, mtimeMs };
}
