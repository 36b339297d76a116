/**
 * The shell's history between runs: one line per entry, oldest first, in oclif's data dir.
 * readline keeps its history newest first; these two functions translate.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export const HISTORY_SIZE = 1000;

/** Newest first, as readline's `history` option wants it; empty if there is no file yet. */
export async function loadHistory(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .reverse()
    .slice(0, HISTORY_SIZE);
}

/** Written aside and renamed, so two shells ending at once never leave a half-written file. */
export async function saveHistory(file: string, newestFirst: readonly string[]): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const aside = `${file}.${process.pid}.tmp`;
  const lines = [...newestFirst].reverse().join('\n');
  // Mode 0600: what a user typed is nobody else's business.
  await writeFile(aside, lines ? `${lines}\n` : '', { mode: 0o600 });
  await rename(aside, file);
}
