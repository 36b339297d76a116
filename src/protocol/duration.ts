/**
 * Durations as people write them (`90s`, `30m`, `12h`, `7d`, `2w`; a bare number is seconds), for
 * expiry: `fex store --expires 7d`, `fex serve --max-age 30d`. Both ends use it, so a client
 * refuses what the server would.
 */
import { FexError } from '../shared/errors.js';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** The longest age anything may have: a hundred years, far below where milliseconds lose precision. */
export const MAX_AGE_SECONDS = 100 * 365 * 86_400;

/** Seconds, or undefined for text that is not a duration (or is 0, or past MAX_AGE_SECONDS). */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,12})\s*([smhdw]?)$/i.exec(text.trim());
  if (!match) return undefined;
  const seconds = Number(match[1]) * (UNIT_SECONDS[(match[2] || 's').toLowerCase()] ?? 1);
  return seconds > 0 && seconds <= MAX_AGE_SECONDS ? seconds : undefined;
}

/** The largest whole unit: 604800 -> "1w", 90 -> "90s", 5400 -> "90m". */
export function formatDuration(seconds: number): string {
  for (const unit of ['w', 'd', 'h', 'm'])
    if (seconds % UNIT_SECONDS[unit]! === 0) return `${seconds / UNIT_SECONDS[unit]!}${unit}`;
  return `${seconds}s`;
}

/** `--expires`: seconds, 0 for "never"; BAD_DURATION for anything else. */
export function expirySeconds(text: string): number {
  if (text.trim().toLowerCase() === 'never') return 0;
  const seconds = parseDuration(text);
  if (seconds === undefined) throw new FexError('BAD_DURATION', { value: text });
  return seconds;
}
