/**
 * S3Storage on a real OpenStack Swift s3api (FEX_TEST_S3_ENDPOINT): the storage contract with the
 * in-process index and with RedisFileIndex (FEX_TEST_REDIS_URL), then what only an object store
 * shows: private object keys, the old object deleted after a replacement, multipart uploads
 * resumed by another server (another S3Storage sharing the Redis) and verified by reading the
 * object back, and abandoned multipart uploads aborted once the partial-upload expiry passes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { Relay as BaseRelay } from '../helpers/relay.js';
import type { S3Client } from '@aws-sdk/client-s3';
import { cleanup, tempDir } from '../../src/testing/kit.js';
import {
  chunked,
  contents,
  drain,
  fexCode,
  pattern,
  sha256,
  storageSuite,
  statOf,
  store,
} from '../../src/testing/storage-contract.js';
import type { FileIndex } from '../../src/server/storage/file-index.js';
import { LocalFileIndex } from '../../src/server/storage/local-file-index.js';
import { RedisFileIndex } from '../../src/server/storage/redis-file-index.js';
import { S3Objects } from '../../src/server/storage/s3-objects.js';
import { S3Storage, type S3StorageOptions } from '../../src/server/storage/s3-storage.js';
import {
  dropBucket,
  newBucket,
  objectKeys,
  openUploads,
  services,
  testS3Client,
} from '../helpers/s3-services.js';

const MiB = 1024 * 1024;
after(cleanup);

const found = services('FEX_TEST_S3_ENDPOINT', 'FEX_TEST_REDIS_URL');
if (found) {
  const client = testS3Client(found.FEX_TEST_S3_ENDPOINT);
  const buckets: string[] = [];
  const redises: Redis[] = [];
  after(async () => {
    for (const bucket of buckets) await dropBucket(client, bucket).catch(() => undefined);
    for (const redis of redises) await redis.quit();
    client.destroy();
  });
  const redis = () => {
    const connection = new Redis(found.FEX_TEST_REDIS_URL);
    redises.push(connection);
    return connection;
  };
  const bucket = async () => {
    const name = await newBucket(client);
    buckets.push(name);
    return name;
  };
  const opened = async (
    bucketName: string,
    index: FileIndex,
    options: S3StorageOptions = {},
  ): Promise<S3Storage> => {
    const storage = new S3Storage(new S3Objects(client, bucketName), index, {
      prefix: 'team/',
      partSize: 5 * MiB,
      ...options,
    });
    await storage.open();
    return storage;
  };

  storageSuite('S3Storage, in-process index', async () => {
    const [name, dir] = [await bucket(), await tempDir('fex-s3-')];
    const open = () => opened(name, new LocalFileIndex(dir));
    return { storage: await open(), reopen: open };
  });

  const redisPlace = async () => {
    const name = await bucket();
    const prefix = `fex:${name}/team/:`;
    return {
      name,
      open: (options?: S3StorageOptions) =>
        opened(name, new RedisFileIndex(redis(), prefix), options),
    };
  };

  storageSuite('S3Storage, RedisFileIndex', async () => {
    const { open } = await redisPlace();
    return { storage: await open(), reopen: open };
  });

  describe('S3Storage on the object store', () => {
    const closing: S3Storage[] = [];
    after(async () => {
      for (const storage of closing) await storage.close();
    });
    const keep = (storage: S3Storage) => (closing.push(storage), storage);

    it('keeps bytes under private keys and deletes a replaced version after the switch', async () => {
      const { name, open } = await redisPlace();
      const storage = keep(await open());
      const first = pattern(12 * MiB + 3, 1);
      await store(storage, 'movie.bin', 'Ann', first);
      const [key] = await objectKeys(client, name, 'team/');
      assert.match(key ?? '', /^team\/objects\/[0-9a-f-]{36}$/);
      assert.ok((await contents(storage, 'movie.bin')).equals(first));
      await store(storage, 'movie.bin', 'Ann', 'second');
      const keys = await objectKeys(client, name, 'team/');
      assert.equal(keys.length, 1);
      assert.notEqual(keys[0], key);
      assert.deepEqual(await openUploads(client, name), []);
      await storage.remove('movie.bin', 'Ann');
      assert.deepEqual(await objectKeys(client, name, 'team/'), []);
    });

    it('reads from an offset with a ranged GET, and nothing past the end', async () => {
      const { open } = await redisPlace();
      const storage = keep(await open());
      const data = pattern(7 * MiB + 11, 8);
      await store(storage, 'ranged.bin', 'Ann', data);
      for (const start of [1, 5 * MiB + 3, data.length - 1])
        assert.ok(
          (await drain((await storage.read('ranged.bin', start)).stream)).equals(
            data.subarray(start),
          ),
          String(start),
        );
      for (const start of [data.length, data.length + 10])
        assert.equal((await drain((await storage.read('ranged.bin', start)).stream)).length, 0);
    });

    it('resumes an upload cut off on one server from its parts on another, verified whole', async () => {
      const { name, open } = await redisPlace();
      const [a, b] = [keep(await open()), keep(await open())];
      const data = pattern(17 * MiB + 5, 2);
      const cut = await a.put('big.bin', { owner: 'Ann', size: data.length });
      // 11 MiB arrive: two parts are held, the last MiB is lost with the connection.
      await cut.write(chunked(data.subarray(0, 11 * MiB), 256 * 1024));
      await cut.suspend();
      assert.equal(await statOf(a, 'big.bin'), undefined);
      const resumed = await b.put('big.bin', { owner: 'Ann', size: data.length });
      assert.equal(resumed.offset, 10 * MiB);
      assert.equal(resumed.prefixSha256, sha256(data.subarray(0, 10 * MiB)));
      await resumed.write(chunked(data.subarray(10 * MiB), 256 * 1024));
      const stored = await resumed.commit(sha256(data));
      assert.equal(stored.size, data.length);
      assert.ok((await contents(a, 'big.bin')).equals(data));
      assert.deepEqual(await openUploads(client, name), []);
    });

    it('refuses a resumed upload whose whole file does not match, keeping nothing', async () => {
      const { name, open } = await redisPlace();
      const [a, b] = [keep(await open()), keep(await open())];
      const data = pattern(11 * MiB, 3);
      const cut = await a.put('x.bin', { owner: 'Ann', size: data.length });
      await cut.write(chunked(data.subarray(0, 6 * MiB)));
      await cut.suspend();
      const resumed = await b.put('x.bin', { owner: 'Ann', size: data.length });
      assert.equal(resumed.offset, 5 * MiB);
      const other = Buffer.from(data);
      const last = data.length - 1;
      other[last] = other[last]! ^ 1;
      await resumed.write(chunked(other.subarray(5 * MiB)));
      // No hash state here: the completed object is read back, and refused.
      await assert.rejects(resumed.commit(sha256(data)), fexCode('E_CHECKSUM'));
      assert.equal(await statOf(b, 'x.bin'), undefined);
      assert.deepEqual(await objectKeys(client, name, 'team/'), []);
      assert.deepEqual(await openUploads(client, name), []);
    });

    it('resumes in the same process with the kept hash state, and restarts on request', async () => {
      const { open } = await redisPlace();
      const storage = keep(await open());
      const data = pattern(12 * MiB, 4);
      const cut = await storage.put('y.bin', { owner: 'Ann', size: data.length });
      await cut.write(chunked(data.subarray(0, 5 * MiB)));
      await cut.suspend();
      const again = await storage.put('y.bin', { owner: 'Ann', size: data.length });
      assert.equal(again.offset, 5 * MiB);
      await again.restart();
      await again.write(chunked(data));
      await again.commit(sha256(data));
      assert.ok((await contents(storage, 'y.bin')).equals(data));
    });

    it('gives one owner to two servers storing one name at once, with no mixed bytes', async () => {
      const { open } = await redisPlace();
      const [a, b] = [keep(await open()), keep(await open())];
      const ann = pattern(6 * MiB, 5);
      const bob = pattern(6 * MiB, 6);
      const results = await Promise.allSettled([
        store(a, 'race.bin', 'Ann', ann),
        store(b, 'race.bin', 'Bob', bob),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.ok(fexCode('E_NOT_OWNER')(lost.reason));
      const owner = (await statOf(b, 'race.bin'))?.owner;
      assert.ok((await contents(a, 'race.bin')).equals(owner === 'Ann' ? ann : bob));
    });

    it('aborts a multipart upload nobody resumed once the partial-upload expiry passed', async () => {
      const { name, open } = await redisPlace();
      const storage = keep(await open());
      const data = pattern(6 * MiB, 7);
      const cut = await storage.put('left.bin', { owner: 'Ann', size: data.length + 1 });
      await cut.write(chunked(data));
      await cut.suspend();
      assert.equal((await openUploads(client, name)).length, 1);
      // Another server starting with a 1 ms expiry finds it stale and aborts it.
      keep(await open({ partialTtlMs: 1 }));
      assert.deepEqual(await openUploads(client, name), []);
      const fresh = await storage.put('left.bin', { owner: 'Ann', size: data.length + 1 });
      assert.equal(fresh.offset, 0);
      await fresh.abort();
    });

    it('fails cleanly when Redis goes away mid-upload, shows nothing, and works once back', async () => {
      const url = new URL(found.FEX_TEST_REDIS_URL);
      const relay = await new Relay(Number(url.port)).start();
      const cut = new Set<Socket>();
      relay.onConnection = (socket) => cut.add(socket);
      // Fail fast instead of queueing while Redis is away (the --state owner sets its own).
      const flaky = new Redis({ host: '127.0.0.1', port: relay.port, maxRetriesPerRequest: 1 });
      // Its reconnection attempts while Redis is away are expected, not news.
      flaky.on('error', () => undefined);
      const name = await bucket();
      const storage = keep(await opened(name, new RedisFileIndex(flaky, `fex:${name}/team/:`)));
      const data = pattern(11 * MiB, 9);
      const pending = await storage.put('away.bin', { owner: 'Ann', size: data.length });
      await pending.write(chunked(data.subarray(0, 2 * MiB)));
      relay.refuse = true;
      for (const socket of cut) socket.destroy();
      await assert.rejects(pending.write(chunked(data.subarray(2 * MiB))), (error: Error) => {
        // The line every request gets while the --state Redis is away (docs/scaling.md).
        assert.ok(fexCode('E_UNAVAILABLE')(error));
        assert.equal(
          error.message,
          'The server cannot reach its shared state. Please try again in a moment.',
        );
        return true;
      });
      await pending.abort();
      relay.refuse = false;
      await waitUntil(async () => (await flaky.ping().catch(() => '')) === 'PONG');
      assert.deepEqual(await storage.list(), []);
      await store(storage, 'away.bin', 'Ann', data);
      assert.ok((await contents(storage, 'away.bin')).equals(data));
      await storage.close();
      flaky.disconnect();
      await relay.stop();
    });

    it('answers a clean one-line error when the object store is unreachable', async () => {
      const dir = await tempDir('fex-s3-');
      const { S3Client: Client } = await import('@aws-sdk/client-s3');
      const away: S3Client = new Client({
        endpoint: 'http://127.0.0.1:1',
        region: 'us-east-1',
        forcePathStyle: true,
        maxAttempts: 1,
        credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      });
      const storage = new S3Storage(new S3Objects(away, 'nowhere'), new LocalFileIndex(dir), {
        describe: 's3://nowhere',
      });
      await assert.rejects(storage.open(), (error: Error) => {
        assert.ok(fexCode('SERVE_FAILED')(error));
        assert.match(error.message, /^Cannot start the server: cannot use s3:\/\/nowhere: .+$/);
        return true;
      });
      await storage.close();
      void randomBytes;
    });
  });
}

/** A relay that can refuse new connections and tells each one it joins. */
class Relay extends BaseRelay {
  refuse = false;
  onConnection: ((socket: Socket) => void) | undefined;

  protected override wire(client: Socket, server: Socket): void {
    if (this.refuse) {
      client.destroy();
      server.destroy();
      return;
    }
    this.onConnection?.(client);
    super.wire(client, server);
  }
}

/** Polls until Redis answers again (ioredis reconnects on its own schedule). */
async function waitUntil(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('Redis never answered again');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
