/**
 * One ioredis client per `--state` URL, shared by everything that keeps state in that Redis (the
 * handle registry, the event bus, a file index). Configured to fail fast while Redis is away:
 * no offline queue (a command sent while disconnected is refused at once), one attempt per
 * command, a 5 s bound on each, and reconnection attempts every second at most for ever, so the
 * server serves again as soon as Redis does.
 */
import { Redis } from 'ioredis';
import { FexError } from '../../shared/errors.js';
import { parseStateUrl, type StateLocation } from './state-url.js';

/** Longest a command may wait for Redis's answer before the request fails (E_UNAVAILABLE). */
export const COMMAND_TIMEOUT_MS = 5000;
/** How long `fex serve` waits for Redis at start-up before it gives up. */
export const CONNECT_TIMEOUT_MS = 5000;

const clients = new Map<string, { client: Redis; location: StateLocation }>();
/** Connections of their own (pub/sub) made from the shared clients, closed with them. */
const duplicates = new Set<Redis>();

function keyOf(location: StateLocation): string {
  return JSON.stringify([location.host, location.port, location.db, location.prefix]);
}

function connect(location: StateLocation): Redis {
  const client = new Redis({
    host: location.host,
    port: location.port,
    db: location.db,
    username: location.username,
    password: location.password,
    keyPrefix: location.prefix,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: (times) => Math.min(times * 100, 1000),
    lazyConnect: false,
  });
  // Failures are reported by whoever uses the client (RedisEventBus logs the transitions);
  // without a listener ioredis would print each reconnection attempt on stderr.
  client.on('error', () => undefined);
  return client;
}

/**
 * The shared client for a `redis://` URL (or parsed location): the same object for the same
 * Redis, database and prefix. Its `keyPrefix` is the URL's prefix, so keys given to it are
 * already namespaced (channels of pub/sub are not: see `channel()`).
 */
export function redisClient(url: string | StateLocation): Redis {
  const location = typeof url === 'string' ? parseStateUrl(url) : url;
  const key = keyOf(location);
  let entry = clients.get(key);
  if (!entry) {
    entry = { client: connect(location), location };
    clients.set(key, entry);
  }
  return entry.client;
}

/** A second connection like `client`'s, for pub/sub (a subscribed connection does nothing else). */
export function duplicateOf(client: Redis): Redis {
  const copy = client.duplicate();
  copy.on('error', () => undefined);
  duplicates.add(copy);
  copy.once('end', () => duplicates.delete(copy));
  return copy;
}

/** The name of a pub/sub channel in the client's namespace (ioredis prefixes keys only). */
export function channel(client: Redis, name: string): string {
  return `${client.options.keyPrefix ?? ''}${name}`;
}

/** Where the client points, for log lines (no password). */
export function describe(client: Redis): string {
  const { host, port, db } = client.options;
  return `Redis at ${host ?? '?'}:${port ?? '?'}/${db ?? 0}`;
}

/** Resolves once the client is ready; rejects with SERVE_FAILED when it is not within the bound. */
export async function whenReady(client: Redis, timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
  if (client.status === 'ready') return;
  let lastError = '';
  const onError = (error: Error) => {
    lastError = (error as NodeJS.ErrnoException).code ?? error.message;
  };
  client.on('error', onError);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.off('ready', onReady);
        reject(
          new FexError('SERVE_FAILED', {
            reason: `cannot reach ${describe(client)}${lastError ? ` (${lastError})` : ''}`,
          }),
        );
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      client.once('ready', onReady);
      if (client.status === 'end' || client.status === 'close')
        void client.connect().catch(onError);
    });
  } finally {
    client.off('error', onError);
  }
}

/** Closes every shared client (at the end of `fex serve`, after the server stopped). */
export async function closeRedisClients(): Promise<void> {
  const all = [...duplicates, ...[...clients.values()].map((entry) => entry.client)];
  clients.clear();
  duplicates.clear();
  await Promise.all(
    all.map((client) =>
      client.status === 'ready'
        ? client.quit().catch(() => client.disconnect())
        : client.disconnect(),
    ),
  );
}
