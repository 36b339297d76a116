import type { Handler } from '../plugin-api.js';

/** A polite goodbye: the server answers, then closes the connection. */
export const leave: Handler = {
  params: {},
  auth: 'none',
  async run(ctx) {
    ctx.connection.end();
    await ctx.reply();
  },
};
