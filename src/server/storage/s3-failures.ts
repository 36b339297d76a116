/**
 * How a failed object-store call is heard, from one table: a store that cannot be reached (the
 * socket refused, reset or timed out, or a 5xx such as 503 SlowDown after the SDK's own retries)
 * is E_UNAVAILABLE, worded like a Redis outage ("its object store"), and the same request works
 * once the store is back; a server set up wrongly (no such bucket, keys refused) is E_INTERNAL in
 * words that send the user to the server's operator; anything else is E_INTERNAL as before. The
 * SDK's own words go to the server's log line (the error's `cause`), never over the wire.
 * docs/storage.md, "When the object store fails".
 */
import { FexError } from '../../shared/errors.js';

/** How the client's line names the object store (E_UNAVAILABLE's `{service}`). */
export const SERVICE = 'object store';

/** Socket failures: the store is down, or the network between is. */
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** The SDK's names for a store that is there but cannot serve now (5xx, throttling, timeout). */
const BUSY = new Set([
  'TimeoutError',
  'RequestTimeout',
  'SlowDown',
  'ServiceUnavailable',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'InternalError',
]);

/** Refusals only the server's operator can mend: what the client is told, by the SDK's name. */
const SETUP: Record<string, (bucket: string) => string> = {
  NoSuchBucket: (bucket) =>
    `its object store has no bucket "${bucket}"; the server's operator must create it or correct --storage`,
  AccessDenied: () => KEYS_REFUSED,
  InvalidAccessKeyId: () => KEYS_REFUSED,
  SignatureDoesNotMatch: () => KEYS_REFUSED,
};
const KEYS_REFUSED =
  "its object store refused the server's keys; the server's operator must correct the keys or the bucket's permissions";

/** What the SDK threw, as far as fex reads it. */
interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** The SDK's words in one line, for the log: `NoSuchBucket: The specified bucket ...`. */
export function sdkReason(error: unknown): string {
  const { name, code, message } = (error ?? {}) as SdkError;
  const label = code && name !== code ? `${name ?? 'Error'} ${code}` : (name ?? 'Error');
  return oneLine(`${label}: ${message ?? String(error)}`);
}

/** Whether the store could not be reached or could not serve (worth trying again later). */
export function isUnreachable(error: unknown): boolean {
  const { name, code, $metadata } = (error ?? {}) as SdkError;
  const status = $metadata?.httpStatusCode ?? 0;
  return (
    (code !== undefined && NETWORK.has(code)) ||
    (name !== undefined && BUSY.has(name)) ||
    status >= 500
  );
}

/** A failure fex does not expect of the store (a bug, an odd answer), in one line. */
export function storeFailed(reason: string): FexError {
  return new FexError('E_INTERNAL', { reason: `the object store failed (${oneLine(reason)})` });
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

/**
 * The FexError a failed call of the store answers with; its `cause` is the SDK's reason, which
 * the request's log line shows.
 */
export function storeFailure(error: unknown, bucket: string): FexError {
  if (error instanceof FexError) return error;
  const reason = sdkReason(error);
  const setup = SETUP[(error as SdkError | undefined)?.name ?? ''];
  const failure = isUnreachable(error)
    ? new FexError('E_UNAVAILABLE', { service: SERVICE })
    : setup
      ? new FexError('E_INTERNAL', { reason: setup(bucket) })
      : storeFailed(reason);
  failure.cause = reason;
  return failure;
}
