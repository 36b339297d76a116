/**
 * The client's `dir`: the listing asked for page by page from a server that pages, or in one body
 * from an older one, every entry checked and every page required to move on.
 */
import { MAX_LISTING_BYTES, type FileEntry, type Header } from '../protocol/constants.js';
import { byCodePoint } from '../shared/code-point-order.js';
import { FexError } from '../shared/errors.js';
import { nameProblem } from '../protocol/names.js';
import type { ClientConnection } from './connection.js';
import { ACTION } from './actions.js';
import { entryOf } from './file-entry.js';

/** Which part of the listing `dir()` fetches, and where its pages go. */
export interface DirOptions {
  /** Only names that start with this. */
  prefix?: string;
  /** At most this many entries. */
  limit?: number;
  /** Receives each page as it arrives; `dir()` then keeps nothing and resolves with []. */
  onPage?: (entries: FileEntry[]) => void;
}

/**
 * A count inside a field the answer's schema checks only as an object (`limits` of `hello`): 0,
 * "not given", unless it is a safe non-negative integer.
 */
const count = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0);

/**
 * The listing, or the part of it `options` asks for, in code point order. From a server that
 * pages (`maxDirPage`, the `limits.maxDirPage` of its `hello` answer) it comes a page per request,
 * and each page goes to `onPage` as it arrives (then nothing is kept here); from an older one in
 * one body, filtered here.
 */
export async function listFiles(
  connection: ClientConnection,
  maxDirPage: unknown,
  options: DirOptions,
): Promise<FileEntry[]> {
  const kept: FileEntry[] = [];
  const deliver = options.onPage ?? ((entries: FileEntry[]) => void kept.push(...entries));
  const { prefix, limit = Infinity } = options;
  const pageSize = count(maxDirPage);
  if (pageSize === 0) {
    const { entries } = await listing(connection, { type: 'dir' });
    deliver(entries.filter((e) => e.name.startsWith(prefix ?? '')).slice(0, limit));
    return kept;
  }
  let after: string | undefined;
  for (let left = limit; left > 0;) {
    const page = await listing(connection, {
      type: 'dir',
      ...(after === undefined ? {} : { after }),
      ...(prefix ? { prefix } : {}),
      limit: Math.min(left, pageSize),
    });
    deliver(page.entries.slice(0, left));
    left -= page.entries.length;
    if (page.next === undefined) break;
    // Each page must move on, or a server could keep the client asking for ever.
    if (page.entries.length === 0 || (after !== undefined && byCodePoint(page.next, after) <= 0))
      throw new FexError('E_BAD_FRAME', { reason: 'a listing page that does not move on' });
    after = page.next;
  }
  return kept;
}

/** One `dir` request: its entries, checked, and where the next page starts, if one follows. */
async function listing(
  connection: ClientConnection,
  request: Header,
): Promise<{ entries: FileEntry[]; next?: string }> {
  const entries: FileEntry[] = [];
  const answer = await connection.request(request, {
    action: ACTION.dir,
    onBody: async (header, body) => {
      if ((header.body ?? 0) > MAX_LISTING_BYTES)
        throw new FexError('E_BAD_FRAME', { reason: 'the listing is too large' });
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk);
      for (const line of Buffer.concat(chunks).toString('utf8').split('\n')) {
        if (!line) continue;
        let parsed: Header;
        try {
          parsed = JSON.parse(line) as Header;
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
            throw new TypeError('not an object');
        } catch {
          throw new FexError('E_BAD_FRAME', { reason: 'the listing is not JSON lines' });
        }
        // Outside the try: a line of JSON that is no file entry says so, not "not JSON".
        entries.push(entryOf(parsed));
      }
    },
  });
  for (const entry of entries) {
    const problem = nameProblem(entry.name);
    if (problem) throw new FexError('UNSAFE_NAME', { reason: problem });
  }
  const next = answer.next;
  if (next !== undefined && typeof next !== 'string')
    throw new FexError('E_BAD_FRAME', { reason: 'a listing page that does not move on' });
  return { entries, next };
}
