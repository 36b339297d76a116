import { FexError } from '../../protocol/errors.js';
import { isStreamFatal } from '../../protocol/frame.js';
import { nameProblem } from '../../protocol/names.js';
import type { Handler } from '../plugin-api.js';

/**
 * An upload: the request announces name and size; once the server has checked them it answers
 * `continue`, the client sends one `data` frame with the body, then `commit` with the SHA-256.
 * Nothing is visible under the name until the checksum matches and the file is flushed.
 */
export const store: Handler = {
  params: { name: 'string', size: 'uint' },
  async run(ctx, request) {
    const name = request.name as string;
    const size = request.size as number;
    const owner = ctx.connection.handle as string;
    const problem = nameProblem(name);
    if (problem) throw new FexError('E_BAD_NAME', { name, reason: problem });
    const max = ctx.server.limits.maxFileSize;
    if (size > max) throw new FexError('E_TOO_LARGE', { size, max });

    const pending = await ctx.server.storage.put(name, { owner, size });
    let stored;
    try {
      await ctx.proceed({ offset: 0 });
      const data = await ctx.receive('data', {});
      if (data.header.body !== size)
        throw new FexError('E_BAD_REQUEST', { reason: 'data length differs from size' });
      let failure: unknown;
      try {
        await pending.write(data.body);
      } catch (error) {
        if (isStreamFatal(error)) throw error;
        // Keep the stream in step (skip the rest of the body, read the commit), then report.
        failure = error;
      }
      const commit = await ctx.receive('commit', { sha256: 'sha256' });
      if (failure) throw failure;
      stored = await pending.commit(commit.header.sha256 as string);
    } catch (error) {
      await pending.abort();
      throw error;
    }
    ctx.server.log.info(`${owner} stored ${name} (${stored.size} bytes)`);
    await ctx.reply({ ...stored });
    ctx.server.broadcast(
      { event: 'uploaded', handle: owner, name, size: stored.size, time: stored.time },
      ctx.connection,
    );
  },
};
