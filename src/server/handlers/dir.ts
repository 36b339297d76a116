import { coreHandler } from '../core-services.js';

/** The listing travels as a body of JSON lines, so it is not bound by the header size limit. */
export const dir = coreHandler({
  params: {},
  async run(ctx) {
    const files = await ctx.server.files.list();
    const body = Buffer.from(files.map((f) => `${JSON.stringify(f)}\n`).join(''), 'utf8');
    await ctx.replyWithBody({ count: files.length }, body.length, [body]);
  },
});
