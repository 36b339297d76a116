/**
 * The log's event for each request a connection served: who (the handle, else the address), what
 * (the type, and the name or handle it names) and the outcome, in one line. Built in one place
 * from the request, the answer sent and the failure if any, so a plugin's request types and
 * refusals (a quota) are logged like the built-in ones without a line of their own.
 */
import type { Header } from '../protocol/constants.js';
import { counted } from '../shared/counted.js';
import { FexError } from '../shared/errors.js';
import { handleProblem, nameProblem, printable, terminalSafeJson } from '../protocol/names.js';
import type { LogEvent, Outcome } from './logger.js';

/** The connection as the log names it. */
export interface Who {
  handle: string | undefined;
  remote: string;
}

/** Longest name or reason written to the log, in characters: it is read by people. */
const MAX_SHOWN = 200;

/**
 * A client's string as the log shows it: as it is when it passes the rules, else quoted as
 * JSON with escapes, so a refused name cannot forge a line or steer the operator's terminal
 * (also with the characters JSON itself leaves as they are: a right-to-left override would
 * reorder the rest of the line on the screen).
 */
function shown(value: unknown, problem: (s: string) => string | undefined): string {
  const text = typeof value === 'string' ? value : String(value);
  const cut = text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}...` : text;
  // printable() leaves safe text as it is, and ASCII text without looking at the Unicode
  // properties, whose expressions would otherwise be built at every server's start.
  if (typeof value === 'string' && !problem(value) && printable(cut) === cut) return cut;
  return terminalSafeJson(JSON.stringify(cut));
}

/** What a request asked for, in words: `store report.pdf`, `register Bob`, `dir`. */
function asked(request: Header): string {
  if (request.name !== undefined) return `${request.type} ${shown(request.name, nameProblem)}`;
  if (request.handle !== undefined)
    return `${request.type} ${shown(request.handle, handleProblem)}`;
  return shown(request.type, () => undefined);
}

const num = (value: unknown) => (typeof value === 'number' ? value : 0);

/**
 * The line of a request that succeeded, by type; undefined for requests not worth a line of
 * their own (`hello` is the join, `leave` the disconnect). Other types get a generic line.
 */
const SUCCESS: Record<string, (who: string, w: Who, answer: Header) => string | undefined> = {
  hello: () => undefined,
  leave: () => undefined,
  register: (_, w) => `${w.remote} registered ${w.handle}`,
  login: (_, w) => `${w.remote} logged in as ${w.handle} with a saved credential`,
  store: (who, _, a) =>
    `${who} stored ${String(a.name)} (${counted(num(a.size), 'byte')})` +
    (num(a.resumedFrom) > 0 ? `, resumed from byte ${num(a.resumedFrom)}` : ''),
  get: (who, _, a) =>
    `${who} fetched ${String(a.name)} (${counted(num(a.size), 'byte')})` +
    (num(a.offset) > 0 ? `, resumed from byte ${num(a.offset)}` : ''),
  dir: (who, _, a) => `${who} listed the directory (${counted(num(a.count), 'file')})`,
  delete: (who, _, a) => `${who} deleted ${String(a.name)} (${counted(num(a.size), 'byte')})`,
  rename: (who, _, a) => `${who} renamed ${String(a.from)} to ${String(a.name)}`,
  // Its audit line, written by the handler with the file's digest and owner, is the line.
  'operator-delete': () => undefined,
};

/** Errors that mean the client went away in the middle: a cancel, not a failure. */
const GONE = new Set(['ECONNRESET', 'EPIPE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_PREMATURE_CLOSE']);

export function isClientGone(error: unknown): boolean {
  if (error instanceof FexError) return error.code === 'CONNECTION_LOST';
  return GONE.has(String((error as NodeJS.ErrnoException | undefined)?.code));
}

function outcomeOf(failure: FexError): Outcome {
  if (failure.code === 'CONNECTION_LOST') return 'cancelled';
  return failure.code === 'E_INTERNAL' ? 'failed' : 'refused';
}

/**
 * The event of one request, or undefined when it needs no line. `cause` is what the handler
 * threw when that was not a FexError (a bug): its first stack frame goes in the line, the
 * whole stack in the JSON form's `stack`, never over several lines.
 */
export function requestEvent(
  w: Who,
  request: Header,
  answer: Header | undefined,
  failure: FexError | undefined,
  cause?: unknown,
): LogEvent | undefined {
  const who = w.handle ?? w.remote;
  const fields = {
    event: request.type,
    handle: w.handle,
    remote: w.remote,
    ...(typeof request.name === 'string' ? { name: request.name } : {}),
  };
  if (!failure) {
    const line = (SUCCESS[request.type] ?? ((x: string) => `${x} ${asked(request)}: ok`))(
      who,
      w,
      answer ?? { type: 'ok' },
    );
    if (line === undefined) return undefined;
    return { ...fields, outcome: 'ok', msg: line, ...sizeOf(answer) };
  }
  const outcome = outcomeOf(failure);
  if (outcome === 'cancelled')
    return {
      ...fields,
      outcome,
      msg: `${who} ${asked(request)} cancelled: the client closed the connection before the answer was through`,
    };
  const stack = cause instanceof Error ? cause.stack : undefined;
  const at = stack
    ?.split('\n')
    .find((l) => l.trimStart().startsWith('at '))
    ?.trim();
  // A refusal that wraps another system's failure (the object store's) keeps that one's words.
  const why = typeof failure.cause === 'string' ? ` (${failure.cause})` : '';
  const reason =
    cause === undefined ? `${failure.message}${why}` : `${String(cause)}${at ? ` (${at})` : ''}`;
  return {
    ...fields,
    outcome,
    code: failure.code,
    reason,
    ...(stack ? { stack } : {}),
    msg: `${who} ${asked(request)} ${outcome} (${failure.code}): ${printable(reason)}`,
  };
}

function sizeOf(answer: Header | undefined): { size?: number } {
  return typeof answer?.size === 'number' ? { size: answer.size } : {};
}
