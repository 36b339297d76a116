/**
 * One line of the shell: split into words, looked up in oclif's command table, and run through
 * oclif like a one-shot command, so parsing, output and errors are the command's own. The shell
 * adds only `/?` and `/exit`.
 */
import type { Config } from '@oclif/core';
import { toFexError } from '../cli/base-command.js';
import { connectionFlags } from '../cli/flags.js';
import { FexError } from '../shared/errors.js';
import { findShellCommand, helpLines } from './shell-commands.js';
import { scan } from './tokenize.js';

export type LineResult = 'ok' | 'failed' | 'exit';

function fail(error: FexError): LineResult {
  process.stderr.write(`${error.line}\n`);
  return 'failed';
}

/**
 * `--server` and `--handle` choose the server and handle of a one-shot command; in the shell the
 * session has already chosen both, so accepting them would silently act elsewhere than asked.
 */
function hasOneShotFlag(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((word) =>
    Object.keys(connectionFlags).some(
      (flag) => word === `--${flag}` || word.startsWith(`--${flag}=`),
    ),
  );
}

/** oclif's ExitError: the command has already said what went wrong, and how it ended. */
function exitStatus(error: unknown): number | undefined {
  const e = error as { code?: unknown; oclif?: { exit?: unknown } } | undefined;
  return e?.code === 'EEXIT' && typeof e.oclif?.exit === 'number' ? e.oclif.exit : undefined;
}

export async function runLine(config: Config, line: string): Promise<LineResult> {
  const { words, partial, openQuote } = scan(line);
  if (partial !== undefined) words.push(partial);
  const [first, ...rest] = words;
  if (first === undefined) return 'ok';
  if (first === '/?' || first === '/exit') {
    if (rest.length > 0 || openQuote) return fail(new FexError('BAD_PARAMS'));
    if (first === '/exit') return 'exit';
    process.stdout.write(`${helpLines(config).join('\n')}\n`);
    return 'ok';
  }
  const found = findShellCommand(config, words);
  if (!found) return fail(new FexError('COMMAND_NOT_FOUND'));
  if (openQuote || hasOneShotFlag(found.argv)) return fail(new FexError('BAD_PARAMS'));
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
