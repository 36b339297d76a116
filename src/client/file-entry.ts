/**
 * What the client accepts from a server about a file or a handle: every field checked before it
 * is printed or used, whatever answer or listing line it came in.
 */
import type { FileEntry, Header } from '../protocol/constants.js';
import { FILE_ENTRY } from '../protocol/answers.js';
import { FexError } from '../shared/errors.js';
import { schemaProblem } from '../protocol/schema.js';
import { handleKey, handleProblem } from '../protocol/names.js';

/** A file's description from the server, refused unless every field is what it must be. */
export function entryOf(header: Header): FileEntry {
  const { name, owner } = header;
  if (typeof name !== 'string') throw new FexError('UNSAFE_NAME', { reason: 'no name' });
  // The owner is printed by `dir --long`: nothing but a handle.
  if (owner !== null && (typeof owner !== 'string' || handleProblem(owner)))
    throw new FexError('UNSAFE_NAME', { reason: 'an owner that is not a handle' });
  // Answers were checked against the same schema on arrival; a listing's lines are checked here.
  const problem = schemaProblem(header, FILE_ENTRY, { extra: 'ignore' });
  if (problem) throw new FexError('E_BAD_FRAME', { reason: `a file entry: ${problem}` });
  const { size, time, sha256, expires } = header as unknown as FileEntry;
  return { name, size, owner, time, sha256, ...(expires === undefined ? {} : { expires }) };
}

/** The handle the server says this connection now is: it must be the one asked for. */
export function answeredHandle(answer: Header, asked: string): string {
  const handle = answer.handle;
  if (typeof handle !== 'string' || handleProblem(handle) || handleKey(handle) !== handleKey(asked))
    throw new FexError('E_BAD_FRAME', { reason: 'the server answered for another handle' });
  return handle;
}
