/**
 * What a client hears when Redis fails a command. Kept apart from redis-client.ts so that code
 * every server loads (the file index) can use it without loading ioredis.
 */
import { FexError } from '../../shared/errors.js';

/** What the client words of a Redis that cannot be reached, and the server's log. */
export const SERVICE = 'shared state';

/**
 * A failed Redis command as the client hears it: a FexError as it is, anything else (refused
 * while disconnected, timed out, connection lost mid-command) E_UNAVAILABLE, one line.
 */
export function stateDown(error: unknown): FexError {
  if (error instanceof FexError) return error;
  return new FexError('E_UNAVAILABLE', { service: SERVICE });
}

/** Runs one operation on Redis, turning its failures into `stateDown`. */
export async function onRedis<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw stateDown(error);
  }
}
