import { FexError } from '../../protocol/errors.js';
import { handleProblem } from '../../protocol/names.js';
import type { Handler } from '../plugin-api.js';

/** Claims a new handle for this connection and returns its credential. */
export const register: Handler = {
  params: { handle: 'string' },
  auth: 'none',
  async run(ctx, request) {
    const handle = request.handle as string;
    if (ctx.connection.handle)
      throw new FexError('E_ALREADY_REGISTERED', { handle: ctx.connection.handle });
    const max = ctx.server.limits.maxHandleLength;
    if (!handleProblem(handle) && handle.length > max)
      throw new FexError('E_HANDLE_TOO_LONG', { handle, max });
    const credential = await ctx.server.handles.register(handle);
    ctx.connection.handle = handle;
    await ctx.reply({ handle, credential });
  },
};
