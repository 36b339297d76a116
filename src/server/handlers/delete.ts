import { refuseBadName } from '../../protocol/names.js';
import { coreHandler } from '../core-services.js';

/**
 * Deletes a file its owner stored. Atomic: a download already under way finishes with the old
 * bytes, the next one is told the file is not found. Every other client hears it.
 */
export const deleteFile = coreHandler({
  params: { name: 'string' },
  async run(ctx, request) {
    const name = request.name;
    refuseBadName(name);
    const handle = ctx.connection.handle as string;
    const removed = await ctx.server.storage.remove(name, handle);
    const time = Date.now();
    await ctx.reply({ ...removed, at: time });
    ctx.server.broadcast({ event: 'deleted', handle, name, time }, ctx.connection);
  },
});
