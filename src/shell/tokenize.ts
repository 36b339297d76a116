/**
 * Splits a shell line into words the way a POSIX shell would, so `/store "my file.txt"`,
 * `/store 'my file.txt'` and `/store my\ file.txt` all give the one word `my file.txt`.
 * Completion needs the unfinished last word too, so the scanner reports where it starts and
 * whether a quote is still open.
 */

export interface Scan {
  /** The finished words. */
  words: string[];
  /** The last word, unquoted, if the line does not end in white space. */
  partial: string | undefined;
  /** Where the last word starts in the line (the line's length after trailing white space). */
  partialStart: number;
  /** The quote still open at the end of the line, if any. */
  openQuote: '"' | "'" | undefined;
}

export function scan(line: string): Scan {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let start = line.length;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    const next = line[i + 1];
    if (quote) {
      if (c === quote) quote = undefined;
      // Inside double quotes a backslash escapes only `"` and itself, as in POSIX shells.
      else if (c === '\\' && quote === '"' && (next === '"' || next === '\\')) word += line[++i];
      else word += c;
      continue;
    }
    if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    if (!inWord) {
      inWord = true;
      start = i;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '\\' && next !== undefined) word += line[++i];
    else word += c;
  }
  if (!inWord) start = line.length;
  return { words, partial: inWord ? word : undefined, partialStart: start, openQuote: quote };
}

/** The words of a complete line, or undefined when a quote is left open. */
export function tokenize(line: string): string[] | undefined {
  const { words, partial, openQuote } = scan(line);
  if (openQuote) return undefined;
  return partial === undefined ? words : [...words, partial];
}

/** A word written so that `tokenize` gives it back: backslashes before what is special. */
export function escapeWord(word: string): string {
  return word.replace(/[\s"'\\]/g, '\\$&');
}
