/**
 * The orphan sweep against commits, on a real OpenStack Swift s3api and a real Redis shared by two
 * S3Storage instances (two servers): an object completed but not yet committed is either kept
 * (the commit came first) or deleted with its commit refused (the sweep came first), never a name
 * pointing at deleted bytes; and an index written before the objects map existed gets the map
 * built before anything is taken for an orphan. The other server's sweep runs every 1 ms with a
 * 1 ms expiry, so every object it lists is old enough.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import {
  chunked,
  contents,
  fexCode,
  pattern,
  sha256,
  store,
} from '../../src/testing/storage-contract.js';
import type { Displaced, IndexedFile } from '../../src/server/storage/file-index.js';
import { RedisFileIndex } from '../../src/server/storage/redis-file-index.js';
import { S3Objects } from '../../src/server/storage/s3-objects.js';
import { S3Storage, type S3StorageOptions } from '../../src/server/storage/s3-storage.js';
import { fileBuckets, objectKeys, services } from '../helpers/s3-services.js';
import { until } from '../helpers/until.js';

/** A Redis index whose next commit waits, once asked to, until released. */
class HeldIndex extends RedisFileIndex {
  private gate: { reached: () => void; released: Promise<void> } | undefined;

  hold(): { reached: Promise<void>; release: () => void } {
    let reached = () => {};
    let release = () => {};
    const arrived = new Promise<void>((resolve) => (reached = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.gate = { reached, released };
    return { reached: arrived, release };
  }

  override async commit(file: IndexedFile, now: number, partial?: string): Promise<Displaced> {
    const gate = this.gate;
    this.gate = undefined;
    if (gate) {
      gate.reached();
      await gate.released;
    }
    return super.commit(file, now, partial);
  }
}

const found = services('FEX_TEST_S3_ENDPOINT', 'FEX_TEST_REDIS_URL');
if (found) {
  const { client, bucket } = fileBuckets(found.FEX_TEST_S3_ENDPOINT);
  const redises: Redis[] = [];
  const closing: S3Storage[] = [];
  after(async () => {
    for (const storage of closing) await storage.close();
    for (const redis of redises) await redis.quit();
  });
  const redis = () => {
    const connection = new Redis(found.FEX_TEST_REDIS_URL);
    redises.push(connection);
    return connection;
  };

  /** A bucket, and servers on it sharing one Redis index. */
  const place = async () => {
    const name = await bucket();
    const prefix = `fex:${name}/team/:`;
    const open = async (index: RedisFileIndex, options: S3StorageOptions = {}) => {
      const storage = new S3Storage(new S3Objects(client, name), index, {
        prefix: 'team/',
        indexId: 'cluster',
        ...options,
      });
      await storage.open();
      closing.push(storage);
      return storage;
    };
    return {
      name,
      prefix,
      open,
      /** Another server whose sweep takes any unnamed object for an orphan at once. */
      sweeper: () => open(new RedisFileIndex(redis(), prefix), { partialTtlMs: 1 }),
      keys: () => objectKeys(client, name, 'team/'),
      /** Plants an orphan and waits for a sweep to delete it: a whole sweep ran meanwhile. */
      sweptOnce: async () => {
        const key = `team/objects/cluster/${randomUUID()}`;
        await client.send(new PutObjectCommand({ Bucket: name, Key: key, Body: 'orphan' }));
        await until('a sweep deleting a planted orphan', async () => {
          return !(await objectKeys(client, name, 'team/')).includes(key);
        });
      },
    };
  };

  /** Stores `data` as `name` up to the index's commit, which waits there until released. */
  const commitHeld = async (server: S3Storage, index: HeldIndex, name: string, data: Buffer) => {
    const pending = await server.put(name, { owner: 'Ann', size: data.length });
    await pending.write(chunked(data));
    const gate = index.hold();
    const committing = pending.commit(sha256(data));
    // Awaited by the caller; a refusal must not go unhandled meanwhile.
    committing.catch(() => undefined);
    // The object is whole in the bucket; the index has not been asked yet.
    await gate.reached;
    return { committing, release: gate.release };
  };

  describe('the orphan sweep against commits', () => {
    it('refuses a commit whose object the sweep took first, and shows nothing', async () => {
      const { prefix, open, sweeper, keys } = await place();
      const index = new HeldIndex(redis(), prefix);
      const server = await open(index);
      const data = pattern(1000, 1);
      const { committing, release } = await commitHeld(server, index, 'race.txt', data);
      assert.equal((await keys()).length, 1);
      const other = await sweeper();
      await until('the sweep deleting the uncommitted object', async () => {
        return (await keys()).length === 0;
      });
      release();
      await assert.rejects(committing, (error: { code: string; message: string }) => {
        assert.equal(error.code, 'E_INTERNAL');
        assert.match(error.message, /the bytes of race\.txt were removed as an orphan/);
        return true;
      });
      assert.deepEqual(await server.list(), []);
      await assert.rejects(server.read('race.txt'), fexCode('E_NOT_FOUND'));
      await other.close();
      await store(server, 'race.txt', 'Ann', data);
      assert.ok((await contents(server, 'race.txt')).equals(data));
    });

    it('keeps the object of a commit made before the sweep', async () => {
      const { prefix, open, sweeper, keys, sweptOnce } = await place();
      const index = new HeldIndex(redis(), prefix);
      const server = await open(index);
      const data = pattern(2000, 2);
      const { committing, release } = await commitHeld(server, index, 'kept.txt', data);
      release();
      await committing;
      const [object] = await keys();
      await sweeper();
      await sweptOnce();
      assert.deepEqual(await keys(), [object]);
      assert.ok((await contents(server, 'kept.txt')).equals(data));
    });

    it('builds the objects map of an index written before it, taking none of its files', async () => {
      const { prefix, open, sweeper, keys, sweptOnce } = await place();
      const connection = redis();
      const server = await open(new RedisFileIndex(connection, prefix));
      const data = pattern(3000, 3);
      await store(server, 'old.txt', 'Ann', data);
      await store(server, 'older.txt', 'Bob', 'older');
      const before = (await keys()).sort();
      // As the version before kept it: no objects map, never marked ready.
      await connection.del(`${prefix}objects`, `${prefix}objects-ready`);
      await sweeper();
      await sweptOnce();
      assert.deepEqual((await keys()).sort(), before);
      assert.ok((await contents(server, 'old.txt')).equals(data));
      assert.equal(await connection.exists(`${prefix}objects-ready`), 1);
    });

    it('completes the objects map at each sweep, so a file an older server committed keeps its object', async () => {
      const { prefix, open, sweeper, keys, sweptOnce } = await place();
      const connection = redis();
      const server = await open(new RedisFileIndex(connection, prefix));
      const data = pattern(3000, 4);
      await store(server, 'kept.txt', 'Ann', data);
      const first = await sweeper();
      await sweptOnce();
      await first.close();
      const before = (await keys()).sort();
      // As a server of the version before the map commits: the file, and no entry in the map.
      const { object } = JSON.parse((await connection.hget(`${prefix}files`, 'kept.txt'))!) as {
        object: string;
      };
      assert.equal(await connection.hdel(`${prefix}objects`, object), 1);
      await sweeper();
      await sweptOnce();
      assert.deepEqual((await keys()).sort(), before);
      assert.ok((await contents(server, 'kept.txt')).equals(data));
    });
  });
}
