import { FexError } from '../../shared/errors.js';
import { refuseBadName } from '../../protocol/names.js';
import { coreHandler } from '../core-services.js';
import { isOperatorKey } from '../operator-key.js';

/**
 * The operator deletes any file, proving with the key in the server's bookkeeping folder that it
 * can read that folder (operator-key.ts). No handle needed; every deletion leaves an audit line in
 * the server's log, and every client hears it as a deletion by "(operator)".
 */
export function operatorDelete(key: () => string) {
  return coreHandler({
    params: { name: 'string', key: 'string' },
    auth: 'none',
    async run(ctx, request) {
      const { remote } = ctx.connection;
      if (!isOperatorKey(key(), request.key)) {
        ctx.server.log.error(`audit: ${remote} offered a wrong operator key; nothing deleted`);
        throw new FexError('E_BAD_OPERATOR_KEY');
      }
      const name = request.name;
      refuseBadName(name);
      const removed = await ctx.server.storage.remove(name, undefined);
      const time = Date.now();
      ctx.server.log.info(
        `audit: the operator (${remote}) deleted ${name}: ${removed.size} bytes, sha256 ${removed.sha256}, stored by ${removed.owner ?? 'the operator'}`,
      );
      await ctx.reply({ ...removed, at: time });
      ctx.server.broadcast({ event: 'deleted', handle: null, operator: true, name, time });
    },
  });
}
