/** One line per event, prefixed with the local time, written to the server's stdout. */
import type { Writable } from 'node:stream';
import { TickCork } from '../shared/tick-cork.js';
import { formatTimestamp } from '../shared/time.js';

export interface Logger {
  info(message: string): void;
  error(message: string): void;
}

/**
 * Lines logged in the same tick leave in one write: a pipelined run of stores logs hundreds of
 * lines a second, and one system call (and one wake-up of whoever reads the log) each adds up.
 */
function tickBatched(stream: Writable): (text: string) => void {
  const cork = new TickCork(stream);
  return (text) => {
    cork.hold();
    stream.write(text);
  };
}

export function streamLogger(out: Writable, err: Writable = out): Logger {
  const toOut = tickBatched(out);
  const toErr = err === out ? toOut : tickBatched(err);
  const line = (write: (text: string) => void, message: string) =>
    write(`${formatTimestamp(Date.now())} ${message}\n`);
  return { info: (m) => line(toOut, m), error: (m) => line(toErr, m) };
}

export const silentLogger: Logger = { info: () => undefined, error: () => undefined };
