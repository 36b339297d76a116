// @ts-check
/**
 * How these commands reach the server: fex's `fex:call` hook, which uses the shell's open
 * session or a one-shot connection, and prints any failure as fex does.
 */
import { Flags } from '@oclif/core';

export const connectionFlags = {
  server: Flags.string({
    summary: 'Server as host:port.',
    env: 'FEX_SERVER',
    helpGroup: 'CONNECTION',
  }),
  handle: Flags.string({
    summary: 'Handle to act as.',
    env: 'FEX_HANDLE',
    helpGroup: 'CONNECTION',
  }),
};

/**
 * @param {import('@oclif/core').Config} config
 * @param {string} type
 * @param {Record<string, unknown>} fields
 * @param {string} action
 * @param {{ server?: string, handle?: string }} flags
 * @returns {Promise<Record<string, unknown>>}
 */
export async function call(config, type, fields, action, flags) {
  // oclif's types know only its own hooks; fex's is called by name.
  const run =
    /** @type {(event: string, options: object) => Promise<{ successes: Array<{ result: unknown }>, failures: Array<{ error: Error }> }>} */ (
      config.runHook.bind(config)
    );
  const { successes, failures } = await run('fex:call', { type, fields, action, ...flags });
  if (failures[0]) throw failures[0].error;
  if (!successes[0]) throw new Error('this fex does not provide the fex:call hook; upgrade fex');
  return /** @type {Record<string, unknown>} */ (successes[0].result);
}
