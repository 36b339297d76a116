/**
 * The write-ahead log for small stores: a put with `resumable: false` of at most WAL_MAX_BYTES
 * carries its bytes (base64, field `data`) in its journal line, so the journal's group fdatasync
 * makes it durable and the file itself need not be flushed before the commit is acknowledged. A
 * checkpoint flushes the file later and appends the record again without the bytes.
 */
import { createHash } from 'node:crypto';
import type { MetaRecord } from './meta-record.js';

/** The largest store whose bytes go into the journal: bounds a line and the memory held per put. */
export const WAL_MAX_BYTES = 16 * 1024;

/**
 * The `mtimeMs` of a record whose file was not flushed when it was written: its mtime is not
 * trustworthy (the data may still be lost), so open() checks such a file by its content. An older
 * fex sees a mismatching mtime and re-hashes the file, keeping its owner, which is also safe.
 */
export const UNFLUSHED_MTIME = -1;

/**
 * Whether `data`, the base64 bytes a journal line carries for `record`, are valid: decoding to
 * exactly the record's size and checksum. Anything else is treated as a line without bytes.
 */
export function isLoggedData(data: string, record: MetaRecord): boolean {
  if (record.size > WAL_MAX_BYTES) return false;
  const bytes = Buffer.from(data, 'base64');
  return (
    bytes.length === record.size &&
    createHash('sha256').update(bytes).digest('hex') === record.sha256
  );
}
