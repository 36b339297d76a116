import { FexError } from '../../protocol/errors.js';
import { nameProblem } from '../../protocol/names.js';
import type { Handler } from '../plugin-api.js';

/** A download: the answer carries size and SHA-256, and the file as its body. */
export const get: Handler = {
  params: { name: 'string' },
  async run(ctx, request) {
    const name = request.name as string;
    const problem = nameProblem(name);
    if (problem) throw new FexError('E_BAD_NAME', { name, reason: problem });
    const { file, stream } = await ctx.server.storage.read(name);
    try {
      await ctx.replyWithBody({ ...file }, file.size, stream);
    } finally {
      stream.destroy();
    }
    ctx.server.log.info(`${ctx.connection.handle ?? '?'} fetched ${name} (${file.size} bytes)`);
  },
};
