/** One line per event, prefixed with the local time, written to the server's stdout. */
import { formatTimestamp } from '../protocol/time.js';

export interface Logger {
  info(message: string): void;
  error(message: string): void;
}

export function streamLogger(out: NodeJS.WritableStream, err: NodeJS.WritableStream = out): Logger {
  const line = (stream: NodeJS.WritableStream, message: string) =>
    stream.write(`${formatTimestamp(Date.now())} ${message}\n`);
  return { info: (m) => line(out, m), error: (m) => line(err, m) };
}

export const silentLogger: Logger = { info: () => undefined, error: () => undefined };
