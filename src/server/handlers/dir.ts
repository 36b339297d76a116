/**
 * `dir`: the listing as a body of JSON lines, so it is not bound by the header size limit. A
 * client that pages (`after`, `prefix`, `limit`) gets at most one page per request, built from the
 * sorted index in time and memory proportional to the page; a client that does not page gets the
 * whole listing as before, written as the socket drains, a few listings at a time server-wide.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { DIR_PAGE_BYTES, DIR_PAGE_ENTRIES } from '../../protocol/constants.js';
import { FexError } from '../../shared/errors.js';
import { coreHandler, type CoreServices } from '../core-services.js';
import type { RequestContext } from '../plugin-api.js';
import type { StoredFile } from '../storage/storage.js';
import { Gate } from '../gate.js';

/** Whole listings being written at once, per server; more wait their turn. */
const WHOLE_LISTINGS_AT_ONCE = 2;
/** Bytes of a whole listing handed to the socket at a time. */
const CHUNK_BYTES = 64 * 1024;
/** Entries measured between turns of the event loop, so other clients are served meanwhile. */
const ENTRIES_PER_TURN = 2000;

const gates = new WeakMap<CoreServices, Gate>();

const line = (file: StoredFile) => Buffer.from(`${JSON.stringify(file)}\n`, 'utf8');

async function page(
  ctx: RequestContext<CoreServices>,
  after?: string,
  prefix?: string,
  asked?: number,
) {
  if (asked === 0) throw new FexError('E_BAD_REQUEST', { reason: '"limit" must be at least 1' });
  const limit = Math.min(asked ?? DIR_PAGE_ENTRIES, DIR_PAGE_ENTRIES);
  const files = await ctx.server.storage.list({ after, prefix, limit: limit + 1 });
  const lines: Buffer[] = [];
  let bytes = 0;
  for (const file of files.slice(0, limit)) {
    if (bytes >= DIR_PAGE_BYTES) break;
    const encoded = line(file);
    lines.push(encoded);
    bytes += encoded.length;
  }
  const next = lines.length < files.length ? files[lines.length - 1]?.name : undefined;
  await ctx.replyWithBody(
    { count: lines.length, ...(next === undefined ? {} : { next }) },
    bytes,
    lines,
  );
}

/** The body of a whole listing, a chunk at a time: encoded as the socket takes it. */
async function* chunks(files: StoredFile[]): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let bytes = 0;
  for (const file of files) {
    const encoded = line(file);
    parts.push(encoded);
    bytes += encoded.length;
    if (bytes < CHUNK_BYTES) continue;
    yield Buffer.concat(parts);
    parts = [];
    bytes = 0;
  }
  if (parts.length > 0) yield Buffer.concat(parts);
}

async function whole(ctx: RequestContext<CoreServices>) {
  let gate = gates.get(ctx.server);
  if (!gate) gates.set(ctx.server, (gate = new Gate(WHOLE_LISTINGS_AT_ONCE)));
  await gate.run(async () => {
    const files = await ctx.server.storage.list();
    // The header announces the body's length, so the listing is measured first, in turns.
    let size = 0;
    for (let i = 0; i < files.length; i++) {
      size += Buffer.byteLength(JSON.stringify(files[i]), 'utf8') + 1;
      if (i % ENTRIES_PER_TURN === ENTRIES_PER_TURN - 1) await nextTurn();
    }
    await ctx.replyWithBody({ count: files.length }, size, chunks(files));
  });
}

export const dir = coreHandler({
  params: { after: 'string?', prefix: 'string?', limit: 'uint?' },
  async run(ctx, request) {
    const { after, prefix, limit } = request;
    if (after === undefined && prefix === undefined && limit === undefined) return whole(ctx);
    return page(ctx, after, prefix, limit);
  },
});
