/**
 * The file index contract against both indexes: the in-process one, persisted in a temporary
 * folder, and RedisFileIndex on a real Redis (FEX_TEST_REDIS_URL), each fixture under a key prefix
 * of its own; its twin is a second client, as a second server would have.
 */
import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import { Redis } from 'ioredis';
import { cleanup, tempDir } from '../../src/testing/kit.js';
import { fileIndexSuite } from '../../src/testing/file-index-contract.js';
import { LocalFileIndex } from '../../src/server/storage/local-file-index.js';
import { RedisFileIndex } from '../../src/server/storage/redis-file-index.js';
import { services } from '../helpers/s3-services.js';

after(cleanup);

fileIndexSuite('LocalFileIndex', async () => {
  const dir = await tempDir('fex-index-');
  const openAt = async () => {
    const index = new LocalFileIndex(dir);
    await index.open();
    return index;
  };
  return { index: await openAt(), reopen: openAt };
});

const found = services('FEX_TEST_REDIS_URL');
if (found) {
  const clients: Redis[] = [];
  after(async () => {
    for (const client of clients) await client.quit();
  });
  const connect = () => {
    const client = new Redis(found.FEX_TEST_REDIS_URL);
    clients.push(client);
    return client;
  };
  fileIndexSuite('RedisFileIndex', async () => {
    const prefix = `fex:test-${randomBytes(6).toString('hex')}:`;
    const openOn = async (client: Redis) => {
      const index = new RedisFileIndex(client, prefix);
      await index.open();
      return index;
    };
    const first = connect();
    return {
      index: await openOn(first),
      reopen: () => openOn(connect()),
      twin: () => openOn(connect()),
      cleanup: async () => {
        const keys = await first.keys(`${prefix}*`);
        if (keys.length > 0) await first.del(...keys);
      },
    };
  });
}
