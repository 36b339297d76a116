/**
 * The second line under `Error: Command parameters do not match or is not allowed.` and
 * `Error: Command not found.`: which word was wrong and, when one is close, the word meant. The
 * first line stays the course's exact one; this line is for the person who typed it.
 */

/** Optimal string alignment distance: edits, counting a swap of two neighbours as one. */
function distance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length)]);
  for (let j = 0; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  return rows[a.length]![b.length]!;
}

/**
 * The candidate closest to `word`, if it is close enough to be a slip of the keyboard: at most two
 * edits, and fewer than half the word's letters (so `ab` does not suggest `dir`). A word that is
 * the start of exactly one candidate (`--disc` for `--discard-partial`) counts as close.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const lower = word.toLowerCase();
  let best: { candidate: string; score: number } | undefined;
  const starts: string[] = [];
  for (const candidate of candidates) {
    if (lower.length >= 2 && candidate.startsWith(lower)) starts.push(candidate);
    const score = distance(lower, candidate.toLowerCase());
    if (score <= 2 && score * 2 < Math.max(lower.length, 2) && (!best || score < best.score))
      best = { candidate, score };
  }
  return best?.candidate ?? (starts.length === 1 ? starts[0] : undefined);
}

/** What oclif's parser tells about a failed parse (@oclif/core/lib/parser/errors). */
interface ParseFailure {
  message?: string;
  /** NonExistentFlagsError: the unknown flags as typed (`--lng`, `-x`, `--sever=h:p`). */
  flags?: unknown;
  /** UnexpectedArgsError: the extra words; RequiredArgsError: the missing arguments. */
  args?: unknown;
  parse?: { input?: { flags?: Record<string, { char?: string; hidden?: boolean }> } };
}

/** `--lng`: `Unknown flag --lng. Did you mean --long?` */
function unknownFlag(typed: string, flags: Record<string, { char?: string; hidden?: boolean }>) {
  const word = typed.split('=')[0]!;
  const names = Object.entries(flags)
    .filter(([, spec]) => !spec.hidden)
    .map(([name]) => `--${name}`);
  const meant = word.startsWith('--') ? closest(word, names) : undefined;
  return `Unknown flag ${word}.${meant ? ` Did you mean ${meant}?` : ''}`;
}

/** oclif's words without its colours and without a final full stop (the hint adds one). */
function plain(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex -- an ANSI colour sequence starts with ESC
      .replace(/\u001b\[[\d;]*m/g, '')
      .trim()
      .replace(/\.$/, '')
  );
}

/** The one line that says what was wrong with a command's words, from oclif's parse error. */
export function parseHint(error: unknown): string | undefined {
  const failure = error as ParseFailure;
  const flags = failure.parse?.input?.flags ?? {};
  if (Array.isArray(failure.flags) && failure.flags.length > 0)
    return unknownFlag(String(failure.flags[0]), flags);
  if (Array.isArray(failure.args) && failure.args.length > 0) {
    const [first] = failure.args as unknown[];
    if (typeof first === 'string') return `Unexpected argument "${first}".`;
    const name = (first as { name?: string }).name;
    if (name) return `Missing argument <${name}>.`;
  }
  // FailedFlagValidationError keeps its reasons only in its message, one per line after this.
  const reason = /^The following errors? occurred:\n\s*([^\n]+)/.exec(failure.message ?? '');
  if (reason) return `${plain(reason[1]!)}.`;
  // A flag whose value did not parse: oclif says `Parsing --port \n\tExpected an integer ...`.
  const parsing = /^Parsing (--[\w-]+)\s*\n\s*([^\n]+)/.exec(failure.message ?? '');
  if (parsing) return `${parsing[1]}: ${plain(parsing[2]!)}.`;
  return undefined;
}

/** `Did you mean store?` for a command word, or nothing when no command is close. */
export function commandHint(
  typed: string,
  commands: Iterable<string>,
  prefix = '',
): string | undefined {
  const meant = closest(typed, commands);
  return meant === undefined ? undefined : `Did you mean ${prefix}${meant}?`;
}
