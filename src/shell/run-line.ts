/**
 * One line of the shell: split into words, looked up in oclif's command table, and run through
 * oclif like a one-shot command, so parsing, output and errors are the command's own. The shell
 * adds only `/?` and `/exit`.
 */
import type { Config } from '@oclif/core';
import { toFexError } from '../cli/base-command.js';
import { connectionFlags } from '../cli/flags.js';
import { FexError } from '../shared/errors.js';
import { commandHint } from '../cli/usage-hint.js';
import { findShellCommand, helpLines, shellCommands } from './shell-commands.js';
import { scan } from './tokenize.js';

export type LineResult = 'ok' | 'failed' | 'exit';

function fail(error: FexError): LineResult {
  process.stderr.write(`${error.text}\n`);
  return 'failed';
}

/**
 * `--server` and `--handle` choose the server and handle of a one-shot command; in the shell the
 * session has already chosen both, so accepting them would silently act elsewhere than asked.
 */
function oneShotFlag(argv: string[]): string | undefined {
  const end = argv.indexOf('--');
  const flags = Object.keys(connectionFlags).map((flag) => `--${flag}`);
  for (const word of end === -1 ? argv : argv.slice(0, end)) {
    const flag = flags.find((name) => word === name || word.startsWith(`${name}=`));
    if (flag) return flag;
  }
  return undefined;
}

const unclosed = (quote: string) => `A quote (${quote}) is not closed.`;

/** oclif's ExitError: the command has already said what went wrong, and how it ended. */
function exitStatus(error: unknown): number | undefined {
  const e = error as { code?: unknown; oclif?: { exit?: unknown } } | undefined;
  return e?.code === 'EEXIT' && typeof e.oclif?.exit === 'number' ? e.oclif.exit : undefined;
}

/** Words people type for a shell command that fex names otherwise. */
const OTHER_NAMES: Record<string, string> = { quit: 'exit', bye: 'exit', ls: 'dir', help: '?' };

/** The line under `Error: Command not found.`: the command meant, or where plugins are managed. */
function notFoundHint(config: Config, words: string[]): string | undefined {
  const typed = words[0]!.replace(/^\//, '');
  if (typed === 'plugins')
    return `Plugins are added outside the shell: fex ${words.join(' ').slice(1)}`;
  const names = shellCommands(config).map((command) => command.name.slice(1));
  const meant = OTHER_NAMES[typed.toLowerCase()] ?? (names.includes(typed) ? typed : undefined);
  return meant === undefined ? commandHint(typed, names, '/') : `Did you mean /${meant}?`;
}

export async function runLine(config: Config, line: string): Promise<LineResult> {
  const { words, partial, openQuote } = scan(line);
  if (partial !== undefined) words.push(partial);
  const [first, ...rest] = words;
  if (first === undefined) return 'ok';
  if (first === '/?' || first === '/exit') {
    if (rest.length > 0 || openQuote)
      return fail(
        new FexError('BAD_PARAMS').withHint(
          openQuote ? unclosed(openQuote) : `${first} takes no arguments.`,
        ),
      );
    if (first === '/exit') return 'exit';
    process.stdout.write(`${helpLines(config).join('\n')}\n`);
    return 'ok';
  }
  const found = findShellCommand(config, words);
  if (!found) return fail(new FexError('COMMAND_NOT_FOUND').withHint(notFoundHint(config, words)));
  if (openQuote) return fail(new FexError('BAD_PARAMS').withHint(unclosed(openQuote)));
  const oneShot = oneShotFlag(found.argv);
  if (oneShot)
    return fail(
      new FexError('BAD_PARAMS').withHint(
        `${oneShot} is for one-shot commands; the shell acts on the connection of /join and /register.`,
      ),
    );
  try {
    await config.runCommand(found.id, found.argv);
    return 'ok';
  } catch (error) {
    const status = exitStatus(error);
    if (status !== undefined) return status === 0 ? 'ok' : 'failed';
    // A plugin's command that does not extend FexCommand: say it the fex way.
    return fail(toFexError(error));
  } finally {
    // A failing command leaves its status in process.exitCode; the shell decides its own.
    process.exitCode = undefined;
  }
}
