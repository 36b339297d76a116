import { DIR_PAGE_ENTRIES, PROTOCOL_VERSION } from '../../protocol/constants.js';
import { FexError } from '../../protocol/errors.js';
import type { Handler } from '../plugin-api.js';

/** The first exchange: versions, limits, and which request types this server serves. */
export const hello: Handler = {
  params: { version: 'uint', client: 'string?' },
  auth: 'none',
  async run(ctx, request) {
    if (request.version !== PROTOCOL_VERSION)
      throw new FexError('E_VERSION', { version: String(request.version) });
    ctx.connection.greeted = true;
    await ctx.reply({
      version: PROTOCOL_VERSION,
      server: 'fex',
      serverId: ctx.server.serverId,
      limits: {
        maxFileSize: ctx.server.limits.maxFileSize,
        maxHeaderBytes: ctx.server.limits.maxHeaderBytes,
        maxNameBytes: ctx.server.limits.maxNameBytes,
        maxHandleLength: ctx.server.limits.maxHandleLength,
        maxDirPage: DIR_PAGE_ENTRIES,
      },
      types: ctx.server.types(),
      bodies: ctx.server.bodyTypes(),
    });
  },
};
