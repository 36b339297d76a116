/**
 * The event bus over a real Redis: an event published by one server reaches another byte for
 * byte and not its sender; presence travels at once and goes with a server that stops.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../../src/server/logger.js';
import type { BusEvent } from '../../src/server/state/event-bus.js';
import { closeRedisClients, redisClient } from '../../src/server/state/redis-client.js';
import { RedisEventBus } from '../../src/server/state/redis-event-bus.js';
import { cleanup } from '../../src/testing/kit.js';
import { serviceFor, startRedis, stateUrl } from '../helpers/services.js';
import { until as untilSeen } from '../helpers/until.js';

const redis = serviceFor('redis');

/** Resolves once `check` holds, polling each few milliseconds (pub/sub is asynchronous). */
const until = (check: () => boolean) =>
  untilSeen('the other bus to hear it', check, { seconds: 30, everyMs: 5 });

describe('RedisEventBus', { skip: redis.skip, timeout: 30_000 }, () => {
  after(async () => {
    await closeRedisClients();
    await cleanup();
  });

  async function two(url = stateUrl(redis.value!)) {
    const heard: BusEvent[][] = [[], []];
    const buses = [new RedisEventBus(redisClient(url)), new RedisEventBus(redisClient(url))];
    await Promise.all(buses.map((bus, i) => bus.open((e) => heard[i]!.push(e), silentLogger)));
    return { buses: buses as [RedisEventBus, RedisEventBus], heard };
  }

  it('carries an event to the other servers as the same bytes, not back to its sender', async () => {
    const { buses, heard } = await two();
    const frame = Buffer.from([0, 0, 0, 2, 0x7b, 0x7d, 0x0a, 0xff]);
    buses[0].publish({ frame, to: 'ann', wake: 123 });
    buses[0].publish({ frame });
    await until(() => heard[1]!.length === 2);
    assert.ok(heard[1]![0]!.frame.equals(frame));
    assert.deepEqual(
      { ...heard[1]![0], frame: undefined },
      { frame: undefined, to: 'ann', wake: 123 },
    );
    assert.deepEqual(Object.keys(heard[1]![1]!), ['frame']);
    assert.deepEqual(heard[0], []);
    await Promise.all(buses.map((bus) => bus.close()));
  });

  it('tells the others who is connected, and forgets a server that stops', async () => {
    const { buses } = await two();
    buses[0].present('ann', 2);
    await until(() => buses[1].elsewhere('ann') === 2);
    assert.equal(buses[0].elsewhere('ann'), 0, 'its own connections are not elsewhere');
    buses[0].present('ann', 1);
    await until(() => buses[1].elsewhere('ann') === 1);
    buses[0].present('ann', 0);
    await until(() => buses[1].elsewhere('ann') === 0);
    buses[0].present('bob', 1);
    await until(() => buses[1].elsewhere('bob') === 1);
    await buses[0].close();
    await until(() => buses[1].elsewhere('bob') === 0);
    await buses[1].close();
  });

  it('carries events and presence again once a restarted Redis is back', async (t) => {
    const own = await startRedis(t);
    if (!own) return;
    const { buses, heard } = await two(stateUrl(own.url));
    buses[0].present('ann', 1);
    await until(() => buses[1].elsewhere('ann') === 1);
    await own.stop();
    // Nothing reaches the other servers now: nobody there is counted, publishing is a no-op.
    await until(() => buses[1].elsewhere('ann') === 0);
    buses[0].publish({ frame: Buffer.from('lost') });
    await own.restart();
    // The restarted Redis has nothing; the heartbeats write the presence back.
    await until(() => buses[1].elsewhere('ann') === 1);
    const frame = Buffer.from([0, 0, 0, 2, 0x7b, 0x7d]);
    await until(() => {
      buses[0].publish({ frame });
      return heard[1]!.length > 0;
    });
    assert.ok(heard[1]!.every((event) => event.frame.equals(frame)));
    await Promise.all(buses.map((bus) => bus.close()));
  });
});
