/**
 * The state a server shares with others (`fex serve --state`): where its handles live and how
 * its events reach the other servers. Without `--state`, each server keeps its own handles in its
 * folder and its events to itself, as a single server always has, and Redis's client is never
 * loaded.
 */
import type { HandleStore } from '../handles.js';
import { LocalEventBus, type EventBus } from './event-bus.js';

export interface SharedState {
  /** The handle registry; undefined: the server's own JSON file. */
  handles?: HandleStore;
  events: EventBus;
  /** The id the server answers `hello` with; undefined: the folder's own (`.fex/server-id`). */
  serverId?: () => Promise<string>;
  /** Closes the connections to Redis, once the server has stopped. */
  close(): Promise<void>;
}

/** The state behind a `--state` URL (checked already by serve-options), or a server's own. */
export async function sharedState(url: string | undefined): Promise<SharedState> {
  if (url === undefined) return { events: new LocalEventBus(), close: async () => undefined };
  const [{ redisClient, closeRedisClients }, { RedisHandleStore }, { RedisEventBus }, id] =
    await Promise.all([
      import('./redis-client.js'),
      import('./redis-handle-store.js'),
      import('./redis-event-bus.js'),
      import('./cluster-id.js'),
    ]);
  const redis = redisClient(url);
  return {
    handles: new RedisHandleStore(redis),
    events: new RedisEventBus(redis),
    serverId: () => id.clusterServerId(redis),
    close: closeRedisClients,
  };
}
