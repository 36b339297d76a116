/**
 * The `fex:call` hook: how a command from an oclif plugin reaches the server without importing
 * fex. It sends one request through the current client (the shell's open session, or a one-shot
 * connection with the remembered server and credentials) and returns the answer. A failure is
 * printed as fex prints every failure, one `Error: ...` line (and its hint), and ends the command with the
 * status of its kind, unless the caller reports it itself (`report: false`, as FexCommand does).
 * docs/plugins.md documents it.
 */
import type { Config } from '@oclif/core';
import { Errors } from '../cli/oclif.js';
import { toFexError } from '../cli/base-command.js';
import { clientFor } from '../client/client.js';
import { printable } from '../client/messages.js';
import type { CallAnswer, CallOptions } from './call-types.js';

// A custom hook: oclif calls it with the caller's options plus its Config.
const hook = async function (options: CallOptions & { config: Config }): Promise<CallAnswer> {
  const { config, type, fields = {}, action = type, server, handle, report = true } = options;
  try {
    const client = await clientFor({ configDir: config.configDir, server, handle });
    const answer = await client.call(type, fields, action);
    // Plugin commands print what the server says: nothing in it may steer the terminal.
    return Object.fromEntries(
      Object.entries(answer).map(([key, value]) => [
        key,
        typeof value === 'string' ? printable(value) : value,
      ]),
    ) as CallAnswer;
  } catch (error) {
    const fex = toFexError(error);
    if (!report) throw fex;
    process.stderr.write(`${fex.text}\n`);
    throw new Errors.ExitError(fex.exit);
  }
};

export default hook;
