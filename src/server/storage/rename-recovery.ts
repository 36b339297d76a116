/**
 * Finishing renames at open(). A rename appends its journal line (the new name's record, with the
 * old name in `from`) before it moves the file, so a crash between the two leaves a journal that
 * names the file by its new name and a disk that still holds it under the old one. Since the line
 * was flushed, the rename was decided: the file is moved now, and the file is then under exactly
 * one of the two names, never both, never neither.
 */
import { lstat, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { nameProblem } from '../../protocol/names.js';
import { fsyncDir } from './fs-helpers.js';
import type { MetaRecord } from './meta-record.js';

/** `renames`: new name -> old name, for the renames whose line is the new name's live line. */
export async function finishRenames(
  root: string,
  records: ReadonlyMap<string, MetaRecord>,
  renames: ReadonlyMap<string, string>,
): Promise<void> {
  let moved = 0;
  for (const [to, from] of renames) {
    // The old name was stored again after the rename: its file is that newer store's.
    if (!records.has(to) || records.has(from) || nameProblem(to) || nameProblem(from)) continue;
    if (await lstat(join(root, to)).catch(() => undefined)) continue;
    const old = await lstat(join(root, from)).catch(() => undefined);
    if (!old?.isFile()) continue;
    await rename(join(root, from), join(root, to));
    moved++;
  }
  if (moved > 0) await fsyncDir(root);
}
