import { FexError } from '../../protocol/errors.js';
import { isStreamFatal } from '../../protocol/frame.js';
import { nameProblem } from '../../protocol/names.js';
import type { Handler, RequestContext } from '../plugin-api.js';
import type { PendingPut, StoredFile } from '../storage/storage.js';

/** The checks every store passes before any byte of it touches the disk. */
function admitStore(ctx: RequestContext, name: string, size: number): void {
  const problem = nameProblem(name);
  if (problem) throw new FexError('E_BAD_NAME', { name, reason: problem });
  const { maxNameBytes, maxFileSize } = ctx.server.limits;
  if (Buffer.byteLength(name, 'utf8') > maxNameBytes)
    throw new FexError('E_BAD_NAME', {
      name,
      reason: `the name is longer than ${maxNameBytes} bytes, this server's limit`,
    });
  if (size > maxFileSize) throw new FexError('E_TOO_LARGE', { size, max: maxFileSize });
}

/**
 * A small file sent in the request itself, with its SHA-256: no `continue` round trip, and once
 * the body is on disk the connection may read the next request while this one is flushed, so a
 * client can pipeline many stores and their flushes share the disk's time.
 */
async function storeWithBody(
  ctx: RequestContext,
  name: string,
  size: number,
  sha256: string,
  length: number,
): Promise<StoredFile> {
  if (length !== size)
    throw new FexError('E_BAD_REQUEST', { reason: 'body length differs from size' });
  const owner = ctx.connection.handle as string;
  const pending = await ctx.server.storage.put(name, { owner, size, resumable: false });
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
  ctx: RequestContext,
  pending: PendingPut,
  size: number,
): Promise<{ stored: StoredFile; from: number }> {
  try {
    const held = pending.offset > 0 ? { sha256: pending.prefixSha256 } : {};
    await ctx.proceed({ offset: pending.offset, ...held });
    const data = await ctx.receive('data', { offset: 'uint?' });
    const from = (data.header.offset as number | undefined) ?? 0;
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
    return { stored: await pending.commit(commit.header.sha256 as string), from };
  } catch (error) {
    // A broken connection keeps what arrived, so the same upload can resume where it stopped.
    await (isStreamFatal(error) ? pending.suspend() : pending.abort());
    throw error;
  }
}

/** An upload. Nothing is visible under the name until the checksum matches and it is flushed. */
export const store: Handler = {
  params: { name: 'string', size: 'uint', sha256: 'sha256?' },
  body: true,
  overlap: true,
  async run(ctx, request) {
    const name = request.name as string;
    const size = request.size as number;
    const sha256 = request.sha256 as string | undefined;
    const owner = ctx.connection.handle as string;
    if ((sha256 === undefined) !== (request.body === undefined))
      throw new FexError('E_BAD_REQUEST', { reason: 'a body and "sha256" go together' });
    admitStore(ctx, name, size);
    let stored: StoredFile;
    let from = 0;
    if (sha256 !== undefined) {
      stored = await storeWithBody(ctx, name, size, sha256, request.body as number);
    } else {
      const pending = await ctx.server.storage.put(name, { owner, size });
      ({ stored, from } = await storeInSteps(ctx, pending, size));
    }
    await ctx.reply({ ...stored, resumedFrom: from });
    ctx.server.broadcast(
      { event: 'uploaded', handle: owner, name, size: stored.size, time: stored.time },
      ctx.connection,
    );
  },
};
