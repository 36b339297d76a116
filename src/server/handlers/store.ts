import { FexError, hasCode } from '../../shared/errors.js';
import { isStreamFatal } from '../../protocol/frame.js';
import { storeAgeMs } from '../expiry.js';
import { coreHandler, type CoreServices } from '../core-services.js';
import { takeRoom } from '../file-limits.js';
import type { RequestContext } from '../plugin-api.js';
import type { PendingPut, PutOptions, StoredFile } from '../storage/storage.js';
import { admitName } from './admit-name.js';

/**
 * The checks every store passes before any byte of it touches the disk; resolves the expiry.
 * `expires`: the seconds the client asked the file be kept, 0 for ever, absent for the default.
 */
function admitStore(
  ctx: RequestContext<CoreServices>,
  name: string,
  size: number,
  expires: number | undefined,
): { ageMs?: number } {
  admitName(ctx.server.limits, name);
  const { maxFileSize } = ctx.server.limits;
  if (size > maxFileSize) throw new FexError('E_TOO_LARGE', { size, max: maxFileSize });
  const ageMs = storeAgeMs(ctx.server.limits, expires);
  return ageMs === undefined ? {} : { ageMs };
}

/**
 * A small file sent in the request itself, with its SHA-256: no `continue` round trip, and once
 * the body is on disk the connection may read the next request while this one is flushed, so a
 * client can pipeline many stores and their flushes share the disk's time.
 */
async function storeWithBody(
  ctx: RequestContext<CoreServices>,
  name: string,
  size: number,
  sha256: string,
  length: number,
  options: PutOptions,
): Promise<StoredFile> {
  if (length !== size)
    throw new FexError('E_BAD_REQUEST', { reason: 'body length differs from size' });
  const pending = await ctx.server.storage.put(name, { ...options, resumable: false });
  try {
    await pending.write(ctx.body());
  } catch (error) {
    await pending.abort();
    throw error;
  }
  ctx.detach();
  return pending.commit(sha256);
}

/**
 * The upload of any size: once the server has checked name and size it answers `continue` with
 * the offset it already holds from an interrupted upload of the same file (and those bytes'
 * SHA-256). The client sends one `data` frame from that offset, or from 0 if the held bytes are
 * not its own, then `commit` with the whole file's SHA-256.
 */
async function storeInSteps(
  ctx: RequestContext<CoreServices>,
  pending: PendingPut,
  name: string,
  size: number,
): Promise<{ stored: StoredFile; from: number }> {
  try {
    const held = pending.offset > 0 ? { sha256: pending.prefixSha256 } : {};
    await ctx.proceed({ offset: pending.offset, ...held });
    const data = await ctx.receive('data', { offset: 'uint?' });
    const from = data.header.offset ?? 0;
    // A failure from here on is answered after the commit frame, keeping the stream in step.
    let failure: unknown;
    try {
      if (from !== pending.offset && from !== 0)
        throw new FexError('E_BAD_REQUEST', { reason: 'data offset not offered' });
      if (data.header.body !== size - from)
        throw new FexError('E_BAD_REQUEST', { reason: 'data length differs from size' });
      if (from !== pending.offset) await pending.restart();
      await pending.write(data.body);
    } catch (error) {
      if (isStreamFatal(error)) throw error;
      failure = error;
    }
    const commit = await ctx.receive('commit', { sha256: 'sha256' });
    if (failure) throw failure;
    return { stored: await pending.commit(commit.header.sha256), from };
  } catch (error) {
    // A broken connection keeps what arrived, so the same upload can resume where it stopped;
    // so does a store or state that went away (E_UNAVAILABLE): what it acknowledged stays.
    if (isStreamFatal(error) || hasCode(error, 'E_UNAVAILABLE')) {
      await pending.suspend();
      const owner = ctx.connection.handle as string;
      ctx.server.log.info(`${owner}'s upload of ${name} was cut off (${error.code})`);
    } else await pending.abort();
    throw error;
  }
}

/** An upload. Nothing is visible under the name until the checksum matches and it is flushed. */
export const store = coreHandler({
  params: { name: 'string', size: 'uint', sha256: 'sha256?', expires: 'uint?' },
  body: true,
  overlap: true,
  async run(ctx, request) {
    const { name, size, sha256 } = request;
    // auth 'registered' (the default): the core admits no request without a handle.
    const owner = ctx.connection.handle as string;
    if ((sha256 === undefined) !== (request.body === undefined))
      throw new FexError('E_BAD_REQUEST', { reason: 'a body and "sha256" go together' });
    const options = {
      owner,
      size,
      ...admitStore(ctx, name, size, request.expires),
    };
    let stored: StoredFile;
    let from = 0;
    const giveBack = await takeRoom(ctx.server, owner, name);
    try {
      if (sha256 !== undefined) {
        stored = await storeWithBody(ctx, name, size, sha256, request.body ?? 0, options);
      } else {
        const pending = await ctx.server.storage.put(name, options);
        ({ stored, from } = await storeInSteps(ctx, pending, name, size));
      }
    } finally {
      giveBack();
    }
    await ctx.reply({ ...stored, resumedFrom: from });
    const expires = stored.expires === undefined ? {} : { expires: stored.expires };
    ctx.server.broadcast(
      { event: 'uploaded', handle: owner, name, size: stored.size, time: stored.time, ...expires },
      ctx.connection,
    );
  },
});
