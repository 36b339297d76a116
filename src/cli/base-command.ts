/**
 * What every fex command shares: the `--json` flag, and one way of failing. Any error becomes a
 * FexError, printed as its one `Error: ...` line on stderr (or as JSON on stdout with --json),
 * and the process exits with the status the error table gives its code.
 */
import { Command, Errors } from './oclif.js';
import { FexError } from '../shared/errors.js';
import type { Client } from '../client/client.js';
import type { CallAnswer } from '../hooks/call-types.js';
import { parseHint } from './usage-hint.js';

/**
 * oclif's parse errors (missing, extra or unknown arguments and flags) carry `parse`; a flag
 * value its own parser refused (`--port abc`) is a plain Error that oclif words `Parsing --port`.
 */
function isUsageError(error: unknown): boolean {
  if ((error as { parse?: unknown } | undefined)?.parse !== undefined) return true;
  return error instanceof Error && /^Parsing --[\w-]+\s*\n/.test(error.message);
}

export function toFexError(error: unknown): FexError {
  if (error instanceof FexError) return error;
  // `fex help nosuch`: oclif's help says the command is not found, in its own words.
  if (error instanceof Error && /^command .+ not found/i.test(error.message))
    return new FexError('COMMAND_NOT_FOUND');
  if (isUsageError(error)) return new FexError('BAD_PARAMS').withHint(parseHint(error));
  const message = error instanceof Error ? error.message : String(error);
  return new FexError('UNEXPECTED', { reason: message });
}

export abstract class FexCommand extends Command {
  static override enableJsonFlag = true;

  protected async client(flags: { server?: string; handle?: string } = {}): Promise<Client> {
    // Loaded when used: a plugin imports this class from `fex`, and its server half should not
    // load the client with it.
    const { clientFor } = await import('../client/client.js');
    return clientFor({
      configDir: this.config.configDir,
      server: flags.server,
      handle: flags.handle,
    });
  }

  /**
   * Sends one request to the server through fex's `fex:call` hook: the shell's open session, or
   * in one-shot use `flags.server`/`flags.handle`, else the remembered server and credentials.
   * Resolves with the whole `ok` answer; a failure is thrown as a FexError, which `catch`
   * reports like any fex command's.
   */
  protected async call(
    type: string,
    fields: Record<string, unknown> = {},
    options: { action?: string; server?: string; handle?: string } = {},
  ): Promise<CallAnswer> {
    const { action, server, handle } = options;
    const { successes, failures } = await this.config.runHook('fex:call', {
      type,
      fields,
      action,
      server,
      handle,
      report: false,
    });
    if (failures[0]) throw failures[0].error;
    if (!successes[0])
      throw new FexError('UNEXPECTED', { reason: 'this fex has no "fex:call" hook' });
    return successes[0].result;
  }

  protected override async catch(error: Error & { exitCode?: number }): Promise<void> {
    if (error instanceof Errors.ExitError) throw error;
    const fex = toFexError(error);
    if (this.jsonEnabled()) {
      const { code, message, exit, hint } = fex;
      this.logJson({ error: { code, message, exit, ...(hint === undefined ? {} : { hint }) } });
    } else {
      process.stderr.write(`${fex.text}\n`);
    }
    // oclif prints nothing for an ExitError; it only sets the status (oclif/core#1423 for --json).
    throw new Errors.ExitError(fex.exit);
  }
}
