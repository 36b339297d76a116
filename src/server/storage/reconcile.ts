/**
 * Start-up reconciliation of the records with the files actually in the root: what a crash, an
 * operator or an attacker left there decides what is listed.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { nameProblem, RESERVED_DIR } from '../../protocol/names.js';
import { hashFile } from './fs-helpers.js';
import type { MetaRecord } from './meta-record.js';
import { UNFLUSHED_MTIME } from './wal.js';

/**
 * One record per regular file with a valid name in `root`. A record whose size or mtime does not
 * match its file (changed behind fex, or a crash between journal append and rename) is re-hashed,
 * keeping its owner and stored time: only the owner may replace a file. A file without a record
 * was put there by the operator. Records without a file are dropped. A record marked
 * UNFLUSHED_MTIME (a small store whose bytes open() could not restore from the journal) has no mtime
 * to compare, so its file is always re-hashed: it is checked by content.
 */
export async function reconcile(
  root: string,
  records: ReadonlyMap<string, MetaRecord>,
): Promise<Map<string, MetaRecord>> {
  const found = new Map<string, MetaRecord>();
  for (const name of await readdir(root)) {
    if (name === RESERVED_DIR || nameProblem(name)) continue;
    const path = join(root, name);
    const info = await lstat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    // Symlinks and other non-regular files are never served: they could point outside the root.
    if (!info?.isFile()) continue;
    let record = records.get(name);
    if (
      !record ||
      record.size !== info.size ||
      record.mtimeMs === UNFLUSHED_MTIME ||
      record.mtimeMs !== info.mtimeMs
    ) {
      record = {
        name,
        size: info.size,
        owner: record?.owner ?? null,
        time: record?.time ?? Math.floor(info.mtimeMs),
        sha256: (await hashFile(path)).digest('hex'),
        mtimeMs: info.mtimeMs,
        ...(record?.expires === undefined ? {} : { expires: record.expires }),
      };
    }
    found.set(name, record);
  }
  return found;
}
