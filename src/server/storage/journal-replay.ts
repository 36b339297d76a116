/**
 * Reads the metadata journal back at start-up: the last line for a name wins, a removal line
 * forgets it. A line that does not parse is skipped: a crash in the middle of an append can only
 * tear the last line, and that line's commit was never acknowledged.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { toMetaRecord, type MetaRecord } from './meta-record.js';

/** Applies every line of the journal at `path` (if there is one) to `records`. */
export async function replayJournal(path: string, records: Map<string, MetaRecord>): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    const lines = createInterface({
      input: handle.createReadStream({ encoding: 'utf8', autoClose: false }),
      crlfDelay: Infinity,
    });
    for await (const line of lines) applyLine(line, records);
  } finally {
    await handle.close();
  }
}

function applyLine(line: string, records: Map<string, MetaRecord>): void {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return;
  }
  const record = toMetaRecord(value);
  if (record) {
    records.set(record.name, record);
    return;
  }
  const removed = (value as { remove?: unknown } | null)?.remove;
  if (typeof removed === 'string') records.delete(removed);
}
