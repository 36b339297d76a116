/**
 * The progress line of a transfer, on stderr and only when stderr is a terminal (never in pipes
 * or logs), redrawn at most ten times a second and cleared when the transfer ends:
 *
 *   Downloading big.bin 42% [########------------] 201.3 MiB of 476.8 MiB, 98.2 MiB/s, 0:03 left
 *
 * Own code rather than a progress-bar package: it is one line of text, and every one-shot
 * command would pay for loading a package's ANSI and timer machinery (docs/performance.md).
 */
import { formatBytes, formatDuration } from './human-units.js';

const BAR_WIDTH = 20;
const REDRAW_MS = 100;
const TICK_MS = 1000;
/** The rate needs a moment of data before it means anything. */
const RATE_AFTER_MS = 500;

/** The line for `done` of `total` bytes, `rate` bytes a second (undefined: not known yet). */
export function progressLine(
  label: string,
  done: number,
  total: number,
  rate: number | undefined,
  columns = 80,
): string {
  const fraction = total === 0 ? 1 : Math.min(1, done / total);
  const percent = `${Math.floor(fraction * 100)}%`;
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
  const left = rate ? formatDuration((total - done) / rate) : '--:--';
  const speed = rate ? `${formatBytes(rate)}/s` : '-- B/s';
  const figures = `${formatBytes(done)} of ${formatBytes(total)}, ${speed}, ${left} left`;
  // A narrow terminal drops the bar, then the figures, rather than wrapping onto a new line
  // that `\r` could not clear.
  for (const line of [
    `${label} ${percent} ${bar} ${figures}`,
    `${label} ${percent} ${figures}`,
    `${label} ${percent}`,
  ])
    if (line.length < columns) return line;
  return `${label} ${percent}`.slice(0, Math.max(columns - 1, 0));
}

export function progressMeter(label: string, stream: NodeJS.WriteStream = process.stderr) {
  if (!stream.isTTY) return { update: undefined, done: () => undefined };
  let last = 0;
  let shown = false;
  let start: { at: number; done: number } | undefined;
  let latest = { done: 0, total: 0 };
  // The last state is drawn even when no more bytes come, and redrawn every second: a stalled
  // transfer must not show the figures of a moment before, nor its old rate.
  let trailing: NodeJS.Timeout | undefined;
  let ticking: NodeJS.Timeout | undefined;
  const draw = () => {
    trailing = undefined;
    const now = Date.now();
    last = now;
    shown = true;
    const { done, total } = latest;
    const elapsed = now - (start?.at ?? now);
    const moved = done - (start?.done ?? done);
    const rate = elapsed >= RATE_AFTER_MS ? (moved * 1000) / elapsed : undefined;
    stream.write(`\r${progressLine(label, done, total, rate, stream.columns)}\u001b[K`);
  };
  let finished = false;
  const update = (done: number, total: number) => {
    // A transfer cut off may still report bytes its last write took after the command ended:
    // the line is gone by then and must not come back under the error.
    if (finished) return;
    const now = Date.now();
    // Measured from the first bytes of this run: a resumed transfer's held bytes are no speed.
    start ??= { at: now, done };
    ticking ??= setInterval(draw, TICK_MS).unref();
    latest = { done, total };
    if (now - last >= REDRAW_MS || done >= total) draw();
    else trailing ??= setTimeout(draw, REDRAW_MS - (now - last)).unref();
  };
  const done = () => {
    finished = true;
    clearTimeout(trailing);
    clearInterval(ticking);
    trailing = ticking = undefined;
    if (shown) stream.write('\r\u001b[K');
  };
  return { update, done };
}
