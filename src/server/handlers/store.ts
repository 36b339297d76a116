import { FexError } from '../../protocol/errors.js';
import { isStreamFatal } from '../../protocol/frame.js';
import { nameProblem } from '../../protocol/names.js';
import type { Handler } from '../plugin-api.js';

/**
 * An upload: the request announces name and size; once the server has checked them it answers
 * `continue` with the offset it already holds from an interrupted upload of the same file (and
 * those bytes' SHA-256). The client sends one `data` frame from that offset, or from 0 if the
 * held bytes are not its own, then `commit` with the whole file's SHA-256. Nothing is visible
 * under the name until the checksum matches and the file is flushed.
 */
export const store: Handler = {
  params: { name: 'string', size: 'uint' },
  async run(ctx, request) {
    const name = request.name as string;
    const size = request.size as number;
    const owner = ctx.connection.handle as string;
    const problem = nameProblem(name);
    if (problem) throw new FexError('E_BAD_NAME', { name, reason: problem });
    const { maxNameBytes } = ctx.server.limits;
    if (Buffer.byteLength(name, 'utf8') > maxNameBytes)
      throw new FexError('E_BAD_NAME', {
        name,
        reason: `the name is longer than ${maxNameBytes} bytes, this server's limit`,
      });
    const max = ctx.server.limits.maxFileSize;
    if (size > max) throw new FexError('E_TOO_LARGE', { size, max });

    const pending = await ctx.server.storage.put(name, { owner, size });
    let stored;
    let from = 0;
    try {
      const held = pending.offset > 0 ? { sha256: pending.prefixSha256 } : {};
      await ctx.proceed({ offset: pending.offset, ...held });
      const data = await ctx.receive('data', { offset: 'uint?' });
      from = (data.header.offset as number | undefined) ?? 0;
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
      stored = await pending.commit(commit.header.sha256 as string);
    } catch (error) {
      // A broken connection keeps what arrived, so the same upload can resume where it stopped.
      await (isStreamFatal(error) ? pending.suspend() : pending.abort());
      throw error;
    }
    ctx.server.log.info(`${owner} stored ${name} (${stored.size} bytes)`);
    await ctx.reply({ ...stored, resumedFrom: from });
    ctx.server.broadcast(
      { event: 'uploaded', handle: owner, name, size: stored.size, time: stored.time },
      ctx.connection,
    );
  },
};
