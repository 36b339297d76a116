/**
 * The metadata layout before the journal: `.fex/meta/<sha256 of name>.json`, one record per file.
 * open() reads it once to migrate the records into the journal, then deletes the folder.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toMetaRecord, type MetaRecord } from './meta-record.js';

/** The valid records in `dir`, by name; none when there is no such folder. */
export async function readLegacyMeta(dir: string): Promise<Map<string, MetaRecord>> {
  const records = new Map<string, MetaRecord>();
  let files: string[];
  try {
    files = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return records;
    throw error;
  }
  for (const file of files) {
    let record: MetaRecord | undefined;
    try {
      record = toMetaRecord(JSON.parse(await readFile(join(dir, file), 'utf8')));
    } catch {
      continue;
    }
    // A stray `*.tmp` from a crash mid-write, or a record under the wrong name, was never in force.
    if (record && file === `${createHash('sha256').update(record.name, 'utf8').digest('hex')}.json`)
      records.set(record.name, record);
  }
  return records;
}
