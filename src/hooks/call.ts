/**
 * The `fex:call` hook: how a command from an oclif plugin reaches the server without importing
 * fex. It sends one request through the current client (the shell's open session, or a one-shot
 * connection with the remembered server and credentials) and returns the answer. A failure is
 * printed as fex prints every failure, one `Error: ...` line, and ends the command with the
 * status of its kind. docs/plugins.md shows a command using it.
 */
import type { Config } from '@oclif/core';
import { Errors } from '../cli/oclif.js';
import { toFexError } from '../cli/base-command.js';
import { clientFor } from '../client/client.js';
import { printable } from '../client/messages.js';
import type { Header } from '../protocol/constants.js';

export interface CallOptions {
  /** The request type a server plugin serves. */
  type: string;
  /** The request's fields. */
  fields?: Record<string, unknown>;
  /** Names the command in errors: "<action> failed. Please connect to the server first." */
  action?: string;
  /** The command's --server and --handle, if it has them. */
  server?: string;
  handle?: string;
}

// A custom hook: oclif calls it with the caller's options plus its Config.
const hook = async function (options: CallOptions & { config: Config }): Promise<Header> {
  const { config, type, fields = {}, action = type, server, handle } = options;
  try {
    const client = await clientFor({ configDir: config.configDir, server, handle });
    const answer = await client.call(type, fields, action);
    // Plugin commands print what the server says: nothing in it may steer the terminal.
    return Object.fromEntries(
      Object.entries(answer).map(([key, value]) => [
        key,
        typeof value === 'string' ? printable(value) : value,
      ]),
    ) as Header;
  } catch (error) {
    const fex = toFexError(error);
    process.stderr.write(`${fex.text}\n`);
    throw new Errors.ExitError(fex.exit);
  }
};

export default hook;
