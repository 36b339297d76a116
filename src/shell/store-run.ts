/**
 * A run of `/store FILE` lines that have already arrived through a pipe, sent together on the
 * session (pipelined) instead of one round trip after another. What it prints is what the lines
 * would have printed one by one, in the same order and on the same streams: the `store`
 * command's upload line, or the error line of the failure. The shell uses it only where that
 * holds: through pipes, without --stop-on-error, joined and registered, with fex's own `store`
 * command and no plugin hooks around commands.
 */
import type { Config } from '@oclif/core';
import { toFexError } from '../cli/base-command.js';
import { messages } from '../client/messages.js';
import { TickCork } from '../shared/tick-cork.js';
import type { ShellClient } from '../client/shell-client.js';
import type { LineResult } from './run-line.js';
import { tokenize } from './tokenize.js';

/** Most lines sent as one run; the next run starts once this one has printed everything. */
export const MAX_RUN = 1024;

/** Whether `store` runs as built: a plugin's own `store`, or a prerun hook, must see each line. */
export function storeRunsAsBuilt(config: Config): boolean {
  const command = config.findCommand('store');
  const hooked = [...config.plugins.values()].some(
    (plugin) => (plugin.hooks.prerun?.length ?? 0) > 0 || (plugin.hooks.postrun?.length ?? 0) > 0,
  );
  return command?.pluginName === config.name && !hooked;
}

/** The file a plain `/store FILE` line names; undefined for any other line. */
export function storedPath(line: string): string | undefined {
  const words = tokenize(line);
  if (words?.length !== 2 || words[0] !== '/store') return undefined;
  const path = words[1] as string;
  // A flag (`/store -h`, `/store --json`) or an empty word is the command's to refuse.
  return path === '' || path.startsWith('-') ? undefined : path;
}

/** Stores the files and prints each line's outcome, as the lines themselves would have. */
export async function runStores(
  client: ShellClient,
  paths: readonly string[],
): Promise<LineResult> {
  let failed = false;
  // The lines of the stores answered in one turn leave in one write, not one system call (and
  // one wake-up of the reader) each; an error line first lets the upload lines before it out.
  const stdout = new TickCork(process.stdout);
  try {
    await client.storeMany(paths, (_index, outcome, handle) => {
      if (outcome.ok) {
        const { name, time } = outcome.file;
        stdout.hold();
        process.stdout.write(`${messages.uploaded(handle, name, time)}\n`);
      } else {
        failed = true;
        stdout.release();
        process.stderr.write(`${toFexError(outcome.error).text}\n`);
      }
    });
  } finally {
    stdout.release();
  }
  return failed ? 'failed' : 'ok';
}
