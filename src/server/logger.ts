/**
 * The server's log: one line per event, as text (prefixed with the local time) or as JSON lines
 * (`--log-format json`) in the shape pino writes (`level`, `time` in epoch milliseconds, `msg`),
 * so the usual tools (pino-pretty, jq, log shippers) read it. Written to the server's stdout;
 * in text form, failures of the server itself go to stderr.
 */
import type { Writable } from 'node:stream';
import { terminalSafeJson } from '../protocol/names.js';
import { TickCork } from '../shared/tick-cork.js';
import { formatTimestamp } from '../shared/time.js';

/** How an event ended: for the client (ok, refused, cancelled), or for the server (failed). */
export type Outcome = 'ok' | 'refused' | 'cancelled' | 'failed';

/** One event: who did what, and how it ended. */
export interface LogEvent {
  /** What happened: `join`, `disconnect`, or the request type (`store`, `get`, ...). */
  event: string;
  outcome: Outcome;
  /** The line of the text log, which says all of it in words. */
  msg: string;
  /** The client's handle, once it has one. */
  handle?: string;
  /** The client's address, `host:port`. */
  remote?: string;
  /** Anything else worth a field of its own: name, size, code, reason. */
  [field: string]: unknown;
}

export interface Logger {
  info(message: string): void;
  error(message: string): void;
  /** One event of a client's, with who, what and the outcome. */
  event(entry: LogEvent): void;
}

export type LogFormat = 'text' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

/** pino's numeric levels. */
const LEVEL = { info: 30, error: 50 } as const;

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

function textLogger(out: Writable, err: Writable): Logger {
  const toOut = tickBatched(out);
  const toErr = err === out ? toOut : tickBatched(err);
  const line = (write: (text: string) => void, message: string) =>
    write(`${formatTimestamp(Date.now())} ${message}\n`);
  return {
    info: (m) => line(toOut, m),
    error: (m) => line(toErr, m),
    event: (e) => line(e.outcome === 'failed' ? toErr : toOut, e.msg),
  };
}

function jsonLogger(out: Writable): Logger {
  const write = tickBatched(out);
  // Read on terminals too (`tail -f`): a client's name in a field must not steer one.
  const line = (level: number, fields: object) =>
    write(`${terminalSafeJson(JSON.stringify({ level, time: Date.now(), ...fields }))}\n`);
  return {
    info: (msg) => line(LEVEL.info, { msg }),
    error: (msg) => line(LEVEL.error, { msg }),
    event: (e) => line(e.outcome === 'failed' ? LEVEL.error : LEVEL.info, e),
  };
}

/** The log on `out` (and `err`, for the text form's failures) in the given format. */
export function streamLogger(
  out: Writable,
  err: Writable = out,
  format: LogFormat = 'text',
): Logger {
  return format === 'json' ? jsonLogger(out) : textLogger(out, err);
}

export const silentLogger: Logger = {
  info: () => undefined,
  error: () => undefined,
  event: () => undefined,
};
