/**
 * What a fex server may send, field by field: the answers to each built-in request, the events,
 * and a listing's lines. The client checks every frame against these with `schemaProblem()`, the
 * code the server checks requests with, so a hostile or broken server meets a protocol error
 * (E_BAD_FRAME, exit 9) rather than a client that trips over a number that is not a count.
 * Answers to plugins' request types have no schema here; their strings are made printable.
 */
import { schemaProblem, type Schema } from './schema.js';

/** A stored file as the server describes it (`store`'s and `get`'s answers, `dir`'s lines). */
export const FILE_ENTRY: Schema = {
  name: 'string',
  size: 'uint',
  owner: 'stringOrNull',
  time: 'uint',
  sha256: 'sha256',
  /** When the file expires, milliseconds since the epoch; absent: never. */
  expires: 'uint?',
};

/** A file deleted or renamed (under its new name), and when the server did it. */
const FILE_CHANGE: Schema = { ...FILE_ENTRY, at: 'uint' };

/** The server's limits in its `hello` answer. */
export const LIMITS: Schema = {
  maxFileSize: 'uint',
  maxHeaderBytes: 'uint',
  maxNameBytes: 'uint?',
  maxHandleLength: 'uint?',
};

/** Every answer frame of a built-in request, by request type and frame type. */
const ANSWERS: Record<string, Partial<Record<'ok' | 'continue', Schema>>> = {
  hello: {
    ok: {
      version: 'uint',
      server: 'string',
      serverId: 'string?',
      limits: 'object',
      types: 'strings',
      bodies: 'strings?',
    },
  },
  register: { ok: { handle: 'string', credential: 'string' } },
  login: { ok: { handle: 'string' } },
  store: {
    continue: { offset: 'uint', sha256: 'sha256?' },
    ok: { ...FILE_ENTRY, resumedFrom: 'uint?' },
  },
  dir: { ok: { count: 'uint?', next: 'string?' } },
  // `offset` is absent from the answers of servers that predate resuming downloads: 0.
  get: { ok: { ...FILE_ENTRY, offset: 'uint?' } },
  delete: { ok: FILE_CHANGE },
  'operator-delete': { ok: FILE_CHANGE },
  rename: { ok: { ...FILE_CHANGE, from: 'string' } },
  leave: { ok: {} },
};

/** An error answer, of any request or of the whole connection. */
const ERROR: Schema = { code: 'string', message: 'string?', details: 'object?' };

/** The events a client acts on; others (a plugin's) are shown only through their `line`. */
export const EVENTS: Record<string, Schema> = {
  uploaded: { event: 'string', handle: 'string', name: 'string', size: 'uint', time: 'uint' },
  // A deletion by the operator has no handle: null, with `operator: true`.
  deleted: {
    event: 'string',
    handle: 'stringOrNull',
    operator: 'boolean?',
    name: 'string',
    time: 'uint',
  },
  renamed: { event: 'string', handle: 'string', name: 'string', to: 'string', time: 'uint' },
  expired: { event: 'string', owner: 'stringOrNull?', name: 'string', time: 'uint' },
  closing: { event: 'string', code: 'string', details: 'object?' },
  dropped: { event: 'string', count: 'uint' },
};

/**
 * The first problem with a frame answering a `request` of that type, or undefined. A frame type
 * the request never gets (`continue` to a `dir`) is the caller's to refuse; fields a newer server
 * adds are ignored, since nothing reads them.
 */
export function answerProblem(
  request: string,
  header: Record<string, unknown>,
): string | undefined {
  const type = header.type as string;
  const schema = type === 'error' ? ERROR : ANSWERS[request]?.[type as 'ok' | 'continue'];
  if (!schema) return undefined;
  const problem = schemaProblem(header, schema, { extra: 'ignore' });
  if (problem) return `the "${type}" answer to "${request}": ${problem}`;
  if (request === 'hello' && type === 'ok') {
    const limits = schemaProblem(header.limits as Record<string, unknown>, LIMITS, {
      extra: 'ignore',
    });
    if (limits) return `the "ok" answer to "hello": limits: ${limits}`;
  }
  return undefined;
}
