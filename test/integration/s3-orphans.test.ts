/**
 * The orphan sweep of `fex serve --storage s3://` through the real binary on a real OpenStack
 * Swift s3api: an object under fex's key layout that nothing names, older than
 * --partial-expiry, is deleted by the running server's sweep (one log line with the count and
 * bytes), while a stored file's object and an upload in progress stay; the upload then finishes
 * and every file reads back whole. A younger orphan stays, and so does every object outside the
 * server's own objects folder (another index's, or one of an older fex without those folders).
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { pattern } from '../../src/testing/storage-contract.js';
import type { RunningServer, User } from '../helpers/harness.js';
import { tempDir } from '../helpers/harness.js';
import { greeted } from '../helpers/raw-client.js';
import { until } from '../helpers/until.js';
import {
  fileBuckets,
  objectKeys,
  openUploads,
  serveOnBucket,
  services,
} from '../helpers/s3-services.js';
import { registered, uploadedParts } from '../helpers/s3-cluster.js';

const MiB = 1024 * 1024;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

const found = services('FEX_TEST_S3_ENDPOINT');
if (found) {
  const endpoint = found.FEX_TEST_S3_ENDPOINT;
  const { client, bucket: newBucket } = fileBuckets(endpoint);

  /** The server's id, made here so the test knows it before the server starts. */
  const INDEX_ID = 'a1'.repeat(16);

  /** A server folder whose lasting id (and so its objects folder) is INDEX_ID. */
  async function serverDir(): Promise<string> {
    const dir = join(await tempDir('fex-srv-'), 'files');
    await mkdir(join(dir, '.fex'), { recursive: true });
    await writeFile(join(dir, '.fex', 'server-id'), `${INDEX_ID}\n`);
    return dir;
  }

  /**
   * An object where the server keeps file bytes (`s3://BUCKET/fex` is serveOnBucket's prefix),
   * or in the folder given.
   */
  async function plantOrphan(
    bucket: string,
    size: number,
    folder = `fex/objects/${INDEX_ID}/`,
  ): Promise<string> {
    const key = `${folder}${randomUUID()}`;
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: pattern(size, 9),
        ContentLength: size,
      }),
    );
    return key;
  }

  async function storeAndGet(user: User, server: RunningServer, name: string, data: Buffer) {
    await writeFile(join(user.home, name), data);
    const at = ['--server', server.address];
    let r = await user.run(['store', name, ...at]);
    assert.equal(r.code, 0, r.stderr);
    r = await user.run(['get', name, '-o', `back-${name}`, ...at]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((await readFile(join(user.home, `back-${name}`))).equals(data));
  }

  describe('fex serve --storage s3:// sweeping orphaned objects', () => {
    it('deletes an orphan older than --partial-expiry; a stored file, an upload in progress and objects outside its folder stay', async () => {
      const bucket = await newBucket();
      // Not this server's to judge: another index's object, and one of a fex before the folders.
      const others = [
        await plantOrphan(bucket, 11, `fex/objects/${'b2'.repeat(16)}/`),
        await plantOrphan(bucket, 12, 'fex/objects/'),
      ];
      const server = await serveOnBucket(bucket, endpoint, {
        dir: await serverDir(),
        args: ['--partial-expiry', '1s'],
      });
      const user = await registered(server.address, 'Ann');
      const live = pattern(3000, 1);
      await storeAndGet(user, server, 'Live.txt', live);
      const [liveObject] = (await objectKeys(client, bucket)).filter((k) => !others.includes(k));
      assert.ok(liveObject?.startsWith(`fex/objects/${INDEX_ID}/`), liveObject);
      // An upload in progress on a connection that stays open: one part of 5 MiB held.
      const big = pattern(12 * MiB, 2);
      const raw = await greeted(server.port, 'Mover');
      raw.send({ type: 'store', id: 3, name: 'Big.bin', size: big.length });
      assert.equal((await raw.next())?.offset, 0);
      raw.send({ type: 'data', id: 3, offset: 0, body: big.length });
      raw.sendBytes(big.subarray(0, 6 * MiB));
      await until('a part held', async () => (await uploadedParts(client, bucket)) >= 1, {
        seconds: 30,
      });
      const orphan = await plantOrphan(bucket, 4321);
      // The sweep runs every --partial-expiry (1 s): within a few, the orphan is old enough.
      const line = await until(
        'the sweep deleting the orphan',
        () => server.output.find((l) => /orphaned object/.test(l)),
        { seconds: 30 },
      );
      assert.match(
        line,
        new RegExp(
          `object store: deleted 1 orphaned object \\(4321 bytes\\) in s3://${bucket}/fex$`,
        ),
      );
      const keys = await objectKeys(client, bucket);
      assert.ok(!keys.includes(orphan), 'the orphan is deleted');
      assert.deepEqual(keys.sort(), [liveObject, ...others].sort());
      assert.equal((await openUploads(client, bucket)).length, 1);
      assert.ok((await uploadedParts(client, bucket)) >= 1);
      // The upload finishes after the sweeps and is whole; so is the file stored before.
      raw.sendBytes(big.subarray(6 * MiB));
      raw.send({ type: 'commit', id: 3, sha256: sha256(big) });
      const answer = await raw.next();
      assert.equal(answer?.type, 'ok', JSON.stringify(answer));
      raw.close();
      const at = ['--server', server.address];
      let r = await user.run(['get', 'Big.bin', '-o', 'Big.back', ...at]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok((await readFile(join(user.home, 'Big.back'))).equals(big));
      r = await user.run(['get', 'Live.txt', '-o', 'Live.back', ...at]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok((await readFile(join(user.home, 'Live.back'))).equals(live));
      await storeAndGet(user, server, 'After.txt', pattern(5000, 3));
      assert.equal((await objectKeys(client, bucket)).length, 3 + others.length);
      assert.deepEqual(await openUploads(client, bucket), []);
      // One line per sweep that deleted something: the later sweeps deleted nothing.
      assert.equal(server.output.filter((l) => /orphaned object/.test(l)).length, 1);
    });

    it('keeps an orphan younger than --partial-expiry', async () => {
      const bucket = await newBucket();
      const orphan = await plantOrphan(bucket, 1000);
      // The sweep at start has run before the server listens.
      const server = await serveOnBucket(bucket, endpoint, {
        dir: await serverDir(),
        args: ['--partial-expiry', '1h'],
      });
      const user = await registered(server.address, 'Ann');
      await storeAndGet(user, server, 'Live.txt', pattern(2000, 4));
      const keys = await objectKeys(client, bucket);
      assert.ok(keys.includes(orphan), 'the young orphan stays');
      assert.equal(keys.length, 2);
      assert.ok(!server.output.some((l) => /orphaned object/.test(l)));
    });
  });
}
