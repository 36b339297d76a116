/**
 * Tab completion: command names, local paths for `/store` (and `-o` of `/get`), and the server's
 * file names for `/get`, `/delete` and the first argument of `/rename`. readline inserts whatever the hits have in common beyond the text being
 * completed, so every hit starts with that text exactly as typed (quotes and backslashes kept).
 */
import { readdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ShellCommand } from './shell-commands.js';
import { escapeWord, scan } from './tokenize.js';

export interface CompletionSources {
  commands: readonly ShellCommand[];
  /** The folder relative paths start from. */
  cwd(): string;
  /** The server's file names, or none when that is not known. */
  serverNames(): Promise<string[]>;
}

interface Candidate {
  value: string;
  /** A folder: completion goes on inside it, so no closing quote. */
  folder: boolean;
}

type ArgumentKind = 'local' | 'server' | 'none';

/** What the first argument of a command names: the new name of `/rename` is the user's to type. */
const FIRST_ARGUMENT: Record<string, ArgumentKind> = {
  '/store': 'local',
  '/get': 'server',
  '/delete': 'server',
  '/rename': 'server',
};

/** What the word being typed names, from the words before it. */
function kindOf(words: string[]): ArgumentKind {
  const [command, ...args] = words;
  const last = args[args.length - 1];
  if (last === '-o' || last === '--output') return command === '/get' ? 'local' : 'none';
  const positional = args.filter((a) => !a.startsWith('-')).length;
  if (positional > 0) return 'none';
  return FIRST_ARGUMENT[command ?? ''] ?? 'none';
}

async function isFolder(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

async function localCandidates(cwd: string, partial: string): Promise<Candidate[]> {
  const cut = partial.lastIndexOf('/') + 1;
  const folder = partial.slice(0, cut);
  const start = partial.slice(cut);
  const where = resolve(cwd, folder || '.');
  const entries = await readdir(where, { withFileTypes: true }).catch(() => []);
  const candidates: Candidate[] = [];
  for (const entry of entries) {
    // Hidden files only when asked for, as shells do.
    if (!entry.name.startsWith(start) || (entry.name.startsWith('.') && !start.startsWith('.')))
      continue;
    const isDir =
      entry.isDirectory() ||
      (entry.isSymbolicLink() && (await isFolder(resolve(where, entry.name))));
    candidates.push({ value: `${folder}${entry.name}${isDir ? '/' : ''}`, folder: isDir });
  }
  return candidates;
}

/** A candidate written the way the word was begun: in the same quotes, or with backslashes. */
function render(candidate: Candidate, typed: string): string {
  const quote = typed[0];
  if (quote === '"')
    return `"${candidate.value.replace(/["\\]/g, '\\$&')}${candidate.folder ? '' : '"'}`;
  if (quote === "'") return `'${candidate.value}${candidate.folder ? '' : "'"}`;
  return escapeWord(candidate.value);
}

/** The hits for `line` and the text they complete, as readline's completer returns them. */
export async function complete(
  line: string,
  sources: CompletionSources,
): Promise<[string[], string]> {
  const { words, partial, partialStart } = scan(line);
  const typed = line.slice(partialStart);
  if (words.length === 0) {
    // The command name: its first word, with a space when something must follow.
    const names = new Map<string, boolean>();
    for (const c of sources.commands) {
      const [first = c.name, ...more] = c.name.split(' ');
      names.set(first, (names.get(first) ?? false) || more.length > 0 || c.takesArguments);
    }
    const hits = [...names]
      .filter(([name]) => name.startsWith(typed))
      .map(([name, more]) => (more ? `${name} ` : name));
    return [hits, typed];
  }
  const kind = kindOf(words);
  const value = partial ?? '';
  let candidates: Candidate[] = [];
  if (kind === 'local') candidates = await localCandidates(sources.cwd(), value);
  if (kind === 'server')
    candidates = (await sources.serverNames())
      .filter((name) => name.startsWith(value))
      .map((name) => ({ value: name, folder: false }));
  const hits = candidates
    .map((c) => render(c, typed))
    .filter((hit) => hit.startsWith(typed))
    .sort();
  return [hits, typed];
}
