/**
 * Recovery of small stores at open(): the journal's live line of such a store holds its bytes
 * (see wal.ts), because neither its file nor its rename was flushed when it was acknowledged. A
 * crash may have lost either, so each file is compared with those bytes and rewritten from them
 * when it differs; then every one of them is checkpointed (flushed, root fsynced once) so the
 * compacted journal open() writes next can carry the records without their bytes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstat, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { nameProblem } from '../../protocol/names.js';
import { isDiskFull } from '../../shared/errors.js';
import { eachLimited, flushFile } from './checkpoint.js';
import { fsyncDir } from './fs-helpers.js';
import type { MetaRecord } from './meta-record.js';

const CONCURRENCY = 8;

/**
 * Makes the file of every record in `logged` (name -> base64 bytes) hold exactly those bytes,
 * durably, and gives its record in `records` the file's real mtime. Resolves with the names it
 * could not restore for lack of space: their journal lines keep the bytes for the next open().
 * Rejects on another disk failure, before the journal is touched, so the next open() tries again.
 */
export async function restoreLogged(
  root: string,
  tmpDir: string,
  records: Map<string, MetaRecord>,
  logged: ReadonlyMap<string, string>,
): Promise<Set<string>> {
  const names = [...logged.keys()].filter((name) => records.has(name) && !nameProblem(name));
  const deferred = new Set<string>();
  await eachLimited(names, CONCURRENCY, async (name) => {
    const record = records.get(name)!;
    const path = join(root, name);
    if (await holds(path, record)) return;
    let restored: boolean;
    try {
      restored = await rewrite(path, tmpDir, Buffer.from(logged.get(name)!, 'base64'));
    } catch (error) {
      if (!isDiskFull(error)) throw error;
      deferred.add(name);
      return;
    }
    // A folder (or the like) took the name behind fex's back: not a file fex may replace.
    if (!restored) records.delete(name);
  });
  await eachLimited(names, CONCURRENCY, async (name) => {
    const record = records.get(name);
    if (!record || deferred.has(name)) return;
    const { mtimeMs } = await flushFile(join(root, name));
    records.set(name, { ...record, mtimeMs });
  });
  // One fsync for every rename above and every rename the crashed run left unsynced.
  if (names.length > 0) await fsyncDir(root);
  return deferred;
}

/** Whether `path` is a regular file with the record's size and checksum (at most WAL_MAX_BYTES to hash). */
async function holds(path: string, record: MetaRecord): Promise<boolean> {
  const info = await lstat(path).catch(() => undefined);
  if (!info?.isFile() || info.size !== record.size) return false;
  const bytes = await readFile(path);
  return createHash('sha256').update(bytes).digest('hex') === record.sha256;
}

/** Writes `bytes` aside, flushed, and renames them to `path`; false if `path` cannot be replaced. */
async function rewrite(path: string, tmpDir: string, bytes: Buffer): Promise<boolean> {
  const aside = join(tmpDir, `${randomBytes(12).toString('hex')}.part`);
  const handle = await open(aside, 'wx', 0o644);
  try {
    await handle.writeFile(bytes);
    await handle.datasync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(aside, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(aside, path);
    return true;
  } catch (error) {
    await rm(aside, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST') return false;
    throw error;
  }
}
