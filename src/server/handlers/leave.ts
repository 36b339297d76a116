import { coreHandler } from '../core-services.js';

/** A polite goodbye: the server answers, then closes the connection. */
export const leave = coreHandler({
  params: {},
  auth: 'none',
  async run(ctx) {
    ctx.connection.end();
    await ctx.reply();
  },
});
