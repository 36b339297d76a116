/**
 * Reads the metadata journal back at start-up: the last line for a name wins, a removal line
 * forgets it. A line that does not parse is skipped: a crash in the middle of an append can only
 * tear the last line, and that line's commit was never acknowledged. A small store's line may carry
 * its bytes (see wal.ts): those of each name's last line are gathered too, for open() to restore.
 * A rename's line is the new name's record with `"from"`, the old name: it removes the old record
 * and adds the new one in one line. Renames whose line is still the live one of their new name are
 * gathered (new name -> old name), for open() to finish one that a crash cut before the file moved.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { toMetaRecord, type MetaRecord } from './meta-record.js';
import { isLoggedData } from './wal.js';

/**
 * Applies every line of the journal at `path` (if there is one) to `records`, and keeps in
 * `logged` (name -> base64) the bytes carried by the live line of each name that has them.
 * Resolves with the number of lines read.
 */
export async function replayJournal(
  path: string,
  records: Map<string, MetaRecord>,
  logged: Map<string, string> = new Map(),
  renames: Map<string, string> = new Map(),
): Promise<number> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  let count = 0;
  try {
    const lines = createInterface({
      input: handle.createReadStream({ encoding: 'utf8', autoClose: false }),
      crlfDelay: Infinity,
    });
    for await (const line of lines) {
      applyLine(line, records, logged, renames);
      count++;
    }
  } finally {
    await handle.close();
  }
  // Checked once, for the live lines only: superseded lines may hold many more bytes.
  for (const [name, data] of logged) {
    const record = records.get(name);
    if (!record || !isLoggedData(data, record)) logged.delete(name);
  }
  return count;
}

function applyLine(
  line: string,
  records: Map<string, MetaRecord>,
  logged: Map<string, string>,
  renames: Map<string, string>,
): void {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return;
  }
  const record = toMetaRecord(value);
  if (record) {
    const from = (value as { from?: unknown }).from;
    renames.delete(record.name);
    if (typeof from === 'string' && from !== record.name) {
      records.delete(from);
      logged.delete(from);
      renames.delete(from);
      renames.set(record.name, from);
    }
    records.set(record.name, record);
    // A later line without bytes (a checkpoint, or a bigger store) supersedes older bytes.
    const data = (value as { data?: unknown }).data;
    if (typeof data === 'string') logged.set(record.name, data);
    else logged.delete(record.name);
    return;
  }
  const removed = (value as { remove?: unknown } | null)?.remove;
  if (typeof removed === 'string') {
    records.delete(removed);
    logged.delete(removed);
    renames.delete(removed);
  }
}
