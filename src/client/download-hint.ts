/** What a user is told of a download cut short on purpose (Ctrl-C): what is kept, how to go on. */
import { resolve } from 'node:path';
import { formatBytes } from './human-units.js';

/**
 * The line under the error, from what the download holds beside `path`. `again` says how to
 * run it again and `bin` starts a command (`fex ` one-shot, `/` in the shell).
 */
export async function downloadHint(
  name: string,
  path: string,
  words: { again: string; bin: string },
): Promise<string> {
  const held = await (await import('./download.js')).partialDownload(path);
  if (!held || held.bytes === 0) return `Nothing was kept; ${words.again} to download it.`;
  const of = held.size === undefined ? '' : ` of ${formatBytes(held.size)}`;
  return `${formatBytes(held.bytes)}${of} kept in ${resolve(held.path)}; ${words.again} to resume, or ${words.bin}get ${name} --discard-partial to remove it.`;
}
