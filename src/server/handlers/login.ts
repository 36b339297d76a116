import { FexError } from '../../shared/errors.js';
import type { Handler } from '../plugin-api.js';

/** Acts as a handle registered earlier, proven by the credential registration returned. */
export const login: Handler = {
  params: { handle: 'string', credential: 'string' },
  auth: 'none',
  async run(ctx, request) {
    const handle = ctx.server.handles.verify(
      request.handle as string,
      request.credential as string,
    );
    if (ctx.connection.handle && ctx.connection.handle !== handle)
      throw new FexError('E_ALREADY_REGISTERED', { handle: ctx.connection.handle });
    ctx.connection.handle = handle;
    await ctx.reply({ handle });
  },
};
