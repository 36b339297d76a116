import { nameProblem } from '../../protocol/names.js';
import { FexError } from '../../shared/errors.js';
import { coreHandler } from '../core-services.js';
import { admitName } from './admit-name.js';

/**
 * Gives a file its owner stored a new name, under the name rules and clash checks of a store;
 * never replaces a file. Atomic, crash-safe (the file is under exactly one of the two names), and
 * every other client hears it.
 */
export const rename = coreHandler({
  params: { name: 'string', to: 'string' },
  async run(ctx, request) {
    const from = request.name;
    const to = request.to;
    // The old name only has to be one that could exist; the new one passes a store's checks.
    const problem = nameProblem(from);
    if (problem) throw new FexError('E_BAD_NAME', { name: from, reason: problem });
    admitName(ctx.server.limits, to);
    const handle = ctx.connection.handle as string;
    const renamed = await ctx.server.storage.rename(from, to, handle);
    const time = Date.now();
    await ctx.reply({ ...renamed, from, at: time });
    ctx.server.broadcast({ event: 'renamed', handle, name: from, to, time }, ctx.connection);
  },
});
