/**
 * The server's events about files (another user's upload, deletion or rename, a file's expiry),
 * checked field by field and turned into the line the shell prints. What the server sends is
 * shown only if it displays as what it is: names and handles must pass the rules.
 */
import type { Header } from '../protocol/constants.js';
import { EVENTS } from '../protocol/answers.js';
import { handleProblem, nameProblem } from '../protocol/names.js';
import { schemaProblem } from '../protocol/schema.js';
import { messages } from './messages.js';

const isName = (v: unknown): v is string => typeof v === 'string' && !nameProblem(v);
const isHandle = (v: unknown): v is string => typeof v === 'string' && !handleProblem(v);
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Event name -> its line, or undefined when a field is not what it must be. */
const LINES: Record<string, (event: Header) => string | undefined> = {
  uploaded: ({ handle, name, size, time }) =>
    isHandle(handle) && isName(name) && typeof size === 'number' && isTime(time)
      ? messages.uploaded(handle, name, time)
      : undefined,
  deleted: ({ handle, operator, name, time }) =>
    (isHandle(handle) || (handle === null && operator === true)) && isName(name) && isTime(time)
      ? messages.deleted(handle ?? undefined, name, time)
      : undefined,
  renamed: ({ handle, name, to, time }) =>
    isHandle(handle) && isName(name) && isName(to) && isTime(time)
      ? messages.renamed(handle, name, to, time)
      : undefined,
  expired: ({ name, time }) =>
    isName(name) && isTime(time) ? messages.expired(name, time) : undefined,
};

/**
 * For a file event: `{ line }`, with no line when its fields are bad (nothing is shown). For any
 * other event (a plugin's): undefined.
 */
export function fileEventLine(event: Header): { line?: string } | undefined {
  const kind = typeof event.event === 'string' ? event.event : '';
  if (!Object.hasOwn(LINES, kind)) return undefined;
  // An event answers nothing, so a malformed one is dropped rather than ending the session.
  if (schemaProblem(event, EVENTS[kind]!, { extra: 'ignore' })) return { line: undefined };
  return { line: LINES[kind]!(event) };
}
