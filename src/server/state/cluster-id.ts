/**
 * The lasting id of a cluster: every server sharing a Redis answers `hello` with the same
 * `serverId`, kept in Redis (`server-id`), made by the first server to start. A client files its
 * credentials under that id and sends them to no server with another (server-id.ts), so servers
 * behind one balancer address must share it, or a login on the second would be refused.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { whenReady } from './redis-client.js';
import { onRedis } from './state-down.js';

export async function clusterServerId(redis: Redis): Promise<string> {
  await whenReady(redis);
  const fresh = randomBytes(16).toString('hex');
  // One atomic claim: of servers starting at the same moment, the first one's id stands.
  await onRedis(() => redis.set('server-id', fresh, 'NX'));
  const id = (await onRedis(() => redis.get('server-id'))) ?? fresh;
  // A Redis restarted without its data has lost the id: the servers running put theirs back,
  // so a server started next joins them under it instead of making a new one.
  redis.on('ready', () => void redis.set('server-id', id, 'NX').catch(() => undefined));
  return id;
}
