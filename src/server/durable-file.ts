/**
 * Writing the server's own small state files (the handle registry, the server id) so that once
 * the call resolves they survive a power loss: the data is flushed before the rename, and the
 * folder after it, since a rename lives in the folder's entries and is lost with them otherwise.
 */
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir } from './storage/fs-helpers.js';

/** Replaces the file at `path` by `text` atomically and durably (aside, flush, rename, flush folder). */
export async function writeDurably(path: string, text: string, mode: number): Promise<void> {
  const aside = `${path}.tmp`;
  try {
    const file = await open(aside, 'w', mode);
    try {
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(aside, path);
  } catch (error) {
    // A half-written aside file only takes space, which may be what ran out.
    await rm(aside, { force: true }).catch(() => undefined);
    throw error;
  }
  await fsyncDir(dirname(path));
}

/** `mkdir -p` whose new folders survive a power loss: each parent of one created is flushed. */
export async function mkdirDurably(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  for (let at = dir; ; at = dirname(at)) {
    await fsyncDir(dirname(at));
    if (at === first) break;
  }
}
