/**
 * The steps around a request's handler that need nothing of the connection's state: the core's
 * checks before it, what the client hears when it fails, and the onResponse hooks after it.
 */
import type { Header } from '../protocol/constants.js';
import { FexError, isErrorCode, serverFailure } from '../shared/errors.js';
import { schemaProblem } from '../protocol/schema.js';
import type { HandlerEntry, HandlerRegistry } from './handler-registry.js';
import type { Logger } from './logger.js';
import type { Outcome, RequestContext } from './plugin-api.js';
import { isClientGone } from './request-log.js';

/** The core's checks, in order; the handler to run when they pass. */
export function admit(
  registry: HandlerRegistry,
  header: Header,
  connection: { readonly greeted: boolean; readonly handle?: string },
): HandlerEntry {
  const entry = registry.get(header.type);
  if (!entry) throw new FexError('E_UNKNOWN_TYPE', { type: header.type });
  const { handler } = entry;
  if (!connection.greeted && handler.handshake !== true)
    throw new FexError('E_BAD_REQUEST', {
      reason: `send "${registry.handshakes().join('" or "')}" first`,
    });
  // Only a handler that reads a body gets one; the reader skips a refused request's body.
  const problem =
    header.body !== undefined && handler.body !== true
      ? 'a request has no body'
      : schemaProblem(header, handler.params);
  if (problem) throw new FexError('E_BAD_REQUEST', { reason: problem });
  if ((handler.auth ?? 'registered') === 'registered' && !connection.handle)
    throw new FexError('E_NOT_REGISTERED', { action: header.type });
  return entry;
}

/**
 * What the client hears of a failure; anything but a FexError is kept vague (the log has it).
 * A client that went away mid-answer (a cancelled download) is no failure of the server's.
 */
export function asAnswer(error: unknown, type: string, socketGone: boolean): FexError {
  if (!(error instanceof FexError) && (isClientGone(error) || socketGone))
    return new FexError('CONNECTION_LOST', { during: ' during a transfer' });
  return serverFailure(error, `the "${type}" handler failed`);
}

/** The error frame answering request `id` (none: the stream itself) with `error`. */
export function errorFrame(id: number | undefined, error: FexError): Header {
  const code = isErrorCode(error.code) || error.code.startsWith('E_') ? error.code : 'E_INTERNAL';
  return {
    type: 'error',
    ...(id === undefined ? {} : { id }),
    code,
    message: error.message,
    details: error.details,
    // The thrower's own words for a built-in code: the client prints them, not its table's.
    ...(error.custom && isErrorCode(error.code) ? { custom: true } : {}),
  };
}

/** Runs the plugins' onResponse hooks in turn; one that fails is logged and the rest still run. */
export async function runResponseHooks(
  registry: HandlerRegistry,
  log: Logger,
  context: RequestContext,
  header: Header,
  outcome: Outcome,
): Promise<void> {
  for (const hook of registry.hooks('onResponse'))
    await Promise.resolve()
      .then(() => hook(context, header, outcome))
      .catch((error: unknown) => log.error(`onResponse hook failed: ${String(error)}`));
}
