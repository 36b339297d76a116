/**
 * The shell's view of oclif's command table: which commands a slash word can name, how a line's
 * words map to a command id and its argv, and each command's syntax for `/?` and completion.
 * Everything comes from `config.commands`, so a plugin's commands appear here with no extra
 * registration.
 */
import type { Command, Config } from '@oclif/core';
import { commandSyntax } from '../cli/syntax.js';

/**
 * oclif lists commands by name; `/?` lists fex's in the order a session uses them, then any
 * other (a plugin's) by name.
 */
const TABLE_ORDER = [
  'join',
  'leave',
  'register',
  'login',
  'store',
  'dir',
  'get',
  'delete',
  'rename',
];

/**
 * Commands of the table that are not actions on a session: `shell` would start a second shell on
 * the same input, `serve` runs a server until it is stopped, and `help` is the one-shot help
 * (the shell's own is `/?`).
 */
const NOT_IN_SHELL = new Set(['shell', 'serve', 'help']);

export interface ShellCommand {
  /** oclif's id, e.g. `store` or `plugins:install`. */
  id: string;
  /** What the user types, e.g. `/store` or `/plugins install`. */
  name: string;
  /** e.g. `/store <filename>` */
  syntax: string;
  summary: string;
  /** Whether arguments follow the name (completion then adds a space; flags are optional). */
  takesArguments: boolean;
}

/** The shell's own commands, which are not oclif commands. */
export const BUILTINS: readonly ShellCommand[] = [
  {
    id: '?',
    name: '/?',
    syntax: '/?',
    summary: 'List every command with its syntax.',
    takesArguments: false,
  },
  {
    id: 'exit',
    name: '/exit',
    syntax: '/exit',
    summary: 'End the shell (Ctrl-D does too).',
    takesArguments: false,
  },
];

/**
 * Topics whose commands are one-shot only: installing and removing plugins changes the CLI itself
 * (`fex plugins`), and the operator's commands act on the server's machine (`fex operator`).
 */
const NOT_IN_SHELL_TOPICS = ['plugins', 'operator'];

function inShell(command: Command.Loadable): boolean {
  const topic = NOT_IN_SHELL_TOPICS.some(
    (name) => command.id === name || command.id.startsWith(`${name}:`),
  );
  return !command.hidden && !NOT_IN_SHELL.has(command.id) && !topic;
}

function describe(command: Command.Loadable): ShellCommand {
  const name = `/${command.id.split(':').join(' ')}`;
  return {
    id: command.id,
    name,
    syntax: `/${commandSyntax(command)}`,
    // Summaries may use oclif's template for the program's name.
    summary: (command.summary ?? command.description?.split('\n')[0] ?? '').replace(
      /<%=\s*config\.bin\s*%>/g,
      'fex',
    ),
    takesArguments: Object.keys(command.args).length > 0,
  };
}

/** Where a command stands in `/?`: fex's own in the order of the table, then plugins' by name. */
function rank(id: string): number {
  const index = TABLE_ORDER.indexOf(id);
  return index === -1 ? TABLE_ORDER.length : index;
}

/** Every command the shell offers, then the shell's own. */
export function shellCommands(config: Config): ShellCommand[] {
  const commands = config.commands
    .filter(inShell)
    .sort((a, b) => rank(a.id) - rank(b.id) || a.id.localeCompare(b.id));
  return [...commands.map(describe), ...BUILTINS];
}

/**
 * The command a line's words name, and the rest of the words as its argv. A plugin's command
 * with a topic (`/plugins install x`) is found by trying the longest run of words first.
 */
export function findShellCommand(
  config: Config,
  words: string[],
): { id: string; argv: string[] } | undefined {
  const [first, ...rest] = words;
  if (!first?.startsWith('/') || first.length === 1) return undefined;
  for (let taken = rest.length; taken >= 0; taken--) {
    const id = [first.slice(1), ...rest.slice(0, taken)].join(':');
    const command = config.findCommand(id);
    if (command && inShell(command)) return { id: command.id, argv: rest.slice(taken) };
  }
  return undefined;
}

/** The lines `/?` prints: each command's syntax, then what it does. */
export function helpLines(config: Config): string[] {
  const commands = shellCommands(config);
  const width = Math.max(...commands.map((c) => c.syntax.length)) + 2;
  return commands.map((c) => (c.summary ? c.syntax.padEnd(width) + c.summary : c.syntax));
}
