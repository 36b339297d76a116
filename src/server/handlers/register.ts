import { coreHandler } from '../core-services.js';

/** Claims a new handle for this connection and returns its credential. */
export const register = coreHandler({
  params: { handle: 'string' },
  auth: 'none',
  async run(ctx, request) {
    const { handle, credential } = await ctx.identify({ register: request.handle });
    await ctx.reply({ handle, credential });
  },
});
