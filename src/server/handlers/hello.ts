import { DIR_PAGE_ENTRIES, PROTOCOL_VERSION } from '../../protocol/constants.js';
import { FexError } from '../../shared/errors.js';
import { coreHandler } from '../core-services.js';

/** The first exchange: versions, limits, and which request types this server serves. */
export const hello = coreHandler({
  params: { version: 'uint', client: 'string?' },
  auth: 'none',
  handshake: true,
  async run(ctx, request) {
    if (request.version !== PROTOCOL_VERSION)
      throw new FexError('E_VERSION', { version: String(request.version) });
    await ctx.reply({
      version: PROTOCOL_VERSION,
      server: 'fex',
      serverId: ctx.server.serverId,
      limits: {
        maxFileSize: ctx.server.limits.maxFileSize,
        maxHeaderBytes: ctx.server.limits.maxHeaderBytes,
        maxNameBytes: ctx.server.limits.maxNameBytes,
        maxHandleLength: ctx.server.limits.maxHandleLength,
        maxAge: ctx.server.limits.maxAge,
        defaultAge: ctx.server.limits.defaultAge,
        maxDirPage: DIR_PAGE_ENTRIES,
      },
      types: ctx.server.types(),
      bodies: ctx.server.bodyTypes(),
    });
  },
});
