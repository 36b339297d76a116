/**
 * What LocalStorage.open() does to the journal and the files before serving: replay the journal,
 * finish the renames a crash cut off, restore the small stores only the journal holds, reconcile
 * the records with the files on disk, and journal what differed.
 */
import { Journal } from './journal.js';
import { replayJournal } from './journal-replay.js';
import type { MetaRecord } from './meta-record.js';
import { reconcile } from './reconcile.js';
import { finishRenames } from './rename-recovery.js';
import { restoreLogged } from './wal-restore.js';

export interface Recovered {
  journal: Journal;
  /** The records to serve, one per file found. */
  found: Map<string, MetaRecord>;
}

export async function recover(
  root: string,
  tmpDir: string,
  journalPath: string,
): Promise<Recovered> {
  const records = new Map<string, MetaRecord>();
  const logged = new Map<string, string>();
  const renames = new Map<string, string>();
  const lines = await replayJournal(journalPath, records, logged, renames);
  const replayed = new Map(records);
  // Before the small stores' restore, which would otherwise write a renamed file's bytes under
  // its new name while the old name still held them.
  await finishRenames(root, records, renames);
  // Small stores whose bytes only the journal holds: restored and flushed (checkpointed), so
  // their records can be journaled again without their bytes. Those that cannot be restored for
  // lack of space keep their lines (and are not served) until a start with room.
  const deferred = await restoreLogged(root, tmpDir, records, logged);
  const found = await reconcile(root, records);
  for (const name of deferred) found.delete(name);
  // Appended to, never rewritten before listening: a full disk must not stop the server.
  const journal = await Journal.open(journalPath, replayed, logged, lines);
  await journalChanges(journal, replayed, found, deferred);
  journal.compactIfStale();
  return { journal, found };
}

/**
 * Journals what open() found different from the journal (files re-hashed, restored, added by the
 * operator or gone). Best effort: on a full disk the lines are not written, and the next open()
 * finds the same differences again.
 */
async function journalChanges(
  journal: Journal,
  replayed: ReadonlyMap<string, MetaRecord>,
  found: ReadonlyMap<string, MetaRecord>,
  deferred: ReadonlySet<string>,
): Promise<void> {
  const changes: Array<Promise<void>> = [];
  for (const [name, record] of found)
    if (!sameRecord(replayed.get(name), record)) changes.push(journal.append(record));
  for (const name of replayed.keys())
    if (!found.has(name) && !deferred.has(name)) changes.push(journal.append({ remove: name }));
  await Promise.all(changes).catch(() => undefined);
}

function sameRecord(a: MetaRecord | undefined, b: MetaRecord): boolean {
  return (
    a !== undefined &&
    a.name === b.name &&
    a.size === b.size &&
    a.owner === b.owner &&
    a.time === b.time &&
    a.sha256 === b.sha256 &&
    a.mtimeMs === b.mtimeMs
  );
}
