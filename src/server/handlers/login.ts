import { coreHandler } from '../core-services.js';

/** Acts as a handle registered earlier, proven by the credential registration returned. */
export const login = coreHandler({
  params: { handle: 'string', credential: 'string' },
  auth: 'none',
  async run(ctx, request) {
    const { handle } = await ctx.identify({
      handle: request.handle,
      credential: request.credential,
    });
    await ctx.reply({ handle });
  },
});
