/**
 * The handle registry in Redis, shared by every server of a cluster: one string key per handle,
 * `handle:<lower-case form>`, holding its record as JSON (the credential's SHA-256, never the
 * credential). Claiming a handle is one `SET ... NX`: of two servers registering the same handle
 * at the same moment, Redis lets exactly one create the key, and the other is told it is taken.
 */
import type { Redis } from 'ioredis';
import { FexError } from '../../shared/errors.js';
import { handleKey } from '../../protocol/names.js';
import { checkCredential, newHandle, type HandleRecord, type HandleStore } from '../handles.js';
import { whenReady } from './redis-client.js';
import { onRedis } from './state-down.js';

const keyOf = (handle: string) => `handle:${handleKey(handle)}`;

function parsed(text: string | null): HandleRecord | undefined {
  if (text === null) return undefined;
  const record = JSON.parse(text) as Partial<HandleRecord>;
  return typeof record.handle === 'string' && typeof record.credentialSha256 === 'string'
    ? (record as HandleRecord)
    : undefined;
}

export class RedisHandleStore implements HandleStore {
  constructor(private readonly redis: Redis) {}

  /** Waits for Redis, so `fex serve` fails at start-up rather than at the first register. */
  async open(): Promise<void> {
    await whenReady(this.redis);
  }

  async has(handle: string): Promise<boolean> {
    return (await onRedis(() => this.redis.exists(keyOf(handle)))) === 1;
  }

  async register(handle: string): Promise<string> {
    const { record, credential } = newHandle(handle);
    const claimed = await onRedis(() =>
      this.redis.set(keyOf(handle), JSON.stringify(record), 'NX'),
    );
    if (claimed !== 'OK') throw new FexError('E_HANDLE_TAKEN', { handle });
    return credential;
  }

  async verify(handle: string, credential: string): Promise<string> {
    const text = await onRedis(() => this.redis.get(keyOf(handle)));
    return checkCredential(handle, credential, parsed(text));
  }
}
