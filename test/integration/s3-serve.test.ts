/**
 * `fex serve --storage s3://BUCKET/PREFIX` through the real binary over TCP, on a real OpenStack
 * Swift s3api (FEX_TEST_S3_ENDPOINT), its endpoint and keys given as the AWS SDK reads them:
 * store and get of a file of several parts byte-identical, a replacement deleting the old object,
 * an upload cut off and resumed by a second `fex serve` process after a `kill -9` of the first,
 * abandoned uploads aborted after the partial-upload expiry, and the object store going away in
 * the middle of a transfer: a clean one-line error, nothing visible, service back with the store.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pattern } from '../../src/testing/storage-contract.js';
import { makeUser, tempDir, type RunningServer, type User } from '../helpers/harness.js';
import { rawConnect } from '../helpers/raw-client.js';
import { SwitchRelay } from '../helpers/switch-relay.js';
import { until } from '../helpers/until.js';
import {
  fileBuckets,
  objectKeys,
  openUploads,
  s3Env,
  serveOnBucket,
  services,
} from '../helpers/s3-services.js';

const MiB = 1024 * 1024;
const AWAY = 'The server cannot reach its object store. Please try again in a moment.';
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

const found = services('FEX_TEST_S3_ENDPOINT');
if (found) {
  const endpoint = found.FEX_TEST_S3_ENDPOINT;
  const { client, bucket: ownBucket } = fileBuckets(endpoint);

  /** `fex serve` on a bucket of its own (or `bucket`), reaching the store at `via`. */
  async function serveOn(
    options: { bucket?: string; dir?: string; via?: string; args?: string[]; port?: number } = {},
  ): Promise<{ server: RunningServer; bucket: string }> {
    const bucket = await ownBucket(options.bucket);
    const server = await serveOnBucket(bucket, options.via ?? endpoint, options);
    return { server, bucket };
  }

  async function userOn(server: RunningServer, handle: string): Promise<User> {
    const user = await makeUser();
    const r = await user.run(['register', handle, '--server', server.address]);
    assert.equal(r.code, 0, r.stderr);
    return user;
  }

  describe('fex serve --storage s3://', () => {
    it('stores and gets a file of several parts byte-identical; a replacement deletes the old object', async () => {
      const { server, bucket } = await serveOn();
      assert.match(server.output[0] ?? '', new RegExp(`storing files in s3://${bucket}/fex$`));
      const user = await userOn(server, 'Ann');
      const data = pattern(20 * MiB + 123, 1);
      await writeFile(join(user.home, 'Big.bin'), data);
      let r = await user.run(['store', 'Big.bin', '--server', server.address]);
      assert.equal(r.code, 0, r.stderr);
      r = await user.run(['get', 'Big.bin', '-o', 'Back.bin', '--server', server.address]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok((await readFile(join(user.home, 'Back.bin'))).equals(data));
      const [first, ...none] = await objectKeys(client, bucket);
      assert.match(first ?? '', /^fex\/objects\//);
      assert.deepEqual(none, []);
      await writeFile(join(user.home, 'Big.bin'), 'the second version');
      r = await user.run(['store', 'Big.bin', '--server', server.address]);
      assert.equal(r.code, 0, r.stderr);
      const keys = await objectKeys(client, bucket);
      assert.equal(keys.length, 1);
      assert.notEqual(keys[0], first);
      r = await user.run(['get', 'Big.bin', '-o', 'Second.txt', '--server', server.address]);
      assert.equal(await readFile(join(user.home, 'Second.txt'), 'utf8'), 'the second version');
      assert.deepEqual(await openUploads(client, bucket), []);
    });

    it('resumes an upload cut off on a server killed with -9 through a second server process', async () => {
      const dir = join(await tempDir('fex-s3-serve-'), 'files');
      const { server: first, bucket } = await serveOn({ dir });
      const user = await userOn(first, 'Resumer');
      const data = pattern(17 * MiB + 9, 2);
      await writeFile(join(user.home, 'Big.bin'), data);
      // The client's own transfer, cut off by the server's death after 12 MiB arrived.
      const credential = await credentialOf(user);
      const raw = await rawConnect(first.port);
      raw.send({ type: 'hello', id: 1, version: 1 });
      await raw.next();
      raw.send({ type: 'login', id: 2, handle: 'Resumer', credential });
      assert.equal((await raw.next())?.type, 'ok');
      raw.send({ type: 'store', id: 3, name: 'Big.bin', size: data.length });
      assert.equal((await raw.next())?.offset, 0);
      raw.send({ type: 'data', id: 3, offset: 0, body: data.length });
      raw.sendBytes(data.subarray(0, 12 * MiB));
      // Two parts of 5 MiB are held once the second one is uploaded: wait for the store to say so.
      await until('two parts in the object store', async () => (await uploadedParts(bucket)) >= 2, {
        seconds: 30,
      });
      await first.stop('SIGKILL');
      raw.close();
      // Another process on the same folder (the in-process index, the handles) and address.
      const { server: second } = await serveOn({ dir, bucket, port: first.port });
      const at = ['--server', second.address];
      const r = await user.run(['store', 'Big.bin', '--json', ...at]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const stored = JSON.parse(r.stdout) as { resumedFrom: number; sha256: string };
      assert.equal(stored.resumedFrom, 10 * MiB);
      assert.equal(stored.sha256, sha256(data));
      const got = await user.run(['get', 'Big.bin', '-o', 'Back.bin', ...at]);
      assert.equal(got.code, 0, got.stderr);
      assert.ok((await readFile(join(user.home, 'Back.bin'))).equals(data));
      assert.deepEqual(await openUploads(client, bucket), []);
    });

    it('aborts an abandoned multipart upload once --partial-expiry has passed', async () => {
      const { server, bucket } = await serveOn({ args: ['--partial-expiry', '1s'] });
      const user = await userOn(server, 'Leaver');
      const credential = await credentialOf(user);
      const raw = await rawConnect(server.port);
      raw.send({ type: 'hello', id: 1, version: 1 });
      await raw.next();
      raw.send({ type: 'login', id: 2, handle: 'Leaver', credential });
      await raw.next();
      raw.send({ type: 'store', id: 3, name: 'Left.bin', size: 12 * MiB });
      await raw.next();
      raw.send({ type: 'data', id: 3, offset: 0, body: 12 * MiB });
      raw.sendBytes(pattern(6 * MiB, 3));
      await until('a part in the object store', async () => (await uploadedParts(bucket)) >= 1, {
        seconds: 30,
      });
      raw.close();
      await server.waitForLine(/Leaver's upload of Left.bin was cut off/);
      // The sweep runs every --partial-expiry: the upload is aborted within a few of them.
      await until(
        'the upload aborted',
        async () => (await openUploads(client, bucket)).length === 0,
        { seconds: 30 },
      );
      assert.deepEqual(await objectKeys(client, bucket), []);
    });

    it('gives a clean one-line error when the store goes away mid-transfer, and works when it is back', async () => {
      const relay = await new SwitchRelay(Number(new URL(endpoint).port)).start();
      after(() => relay.stop());
      const { server } = await serveOn({ via: `http://127.0.0.1:${relay.port}` });
      const user = await userOn(server, 'Ann');
      const data = pattern(16 * MiB, 4);
      await writeFile(join(user.home, 'Big.bin'), data);
      relay.onSent = () => {
        if (relay.sent > 7 * MiB) relay.cut();
      };
      let r = await user.run(['store', 'Big.bin', '--server', server.address]);
      assert.equal(r.code, 3);
      assert.equal(r.stderr, `Error: ${AWAY}\n`);
      r = await user.run(['dir', '--server', server.address]);
      assert.equal(r.stdout, 'Server Directory\n');
      r = await user.run(['get', 'Big.bin', '--server', server.address]);
      assert.equal(r.stderr, 'Error: File not found in the server.\n');
      relay.onSent = undefined;
      relay.mend();
      r = await user.run(['store', 'Big.bin', '--server', server.address]);
      assert.equal(r.code, 0, r.stderr);
      // The part the store acknowledged before the cut was kept: the upload went on from it.
      const stored = server.output.find((line) => /Ann stored Big\.bin/.test(line));
      assert.match(stored ?? '', /, resumed from byte 5242880$/);
      // A get while the store is away fails cleanly too.
      relay.cut();
      r = await user.run(['get', 'Big.bin', '-o', 'Back.bin', '--server', server.address]);
      assert.equal(r.code, 3);
      assert.equal(r.stderr, `Error: ${AWAY}\n`);
      relay.mend();
      r = await user.run(['get', 'Big.bin', '-o', 'Back.bin', '--server', server.address]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok((await readFile(join(user.home, 'Back.bin'))).equals(data));
    });

    it('refuses to start on a bucket it cannot use, in one line', async () => {
      const user = await makeUser();
      Object.assign(process.env, s3Env(endpoint));
      const r = await user.run([
        'serve',
        '--port',
        '0',
        '--storage',
        's3://no-such-bucket-fex',
        '--s3-path-style',
      ]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /^Error: Cannot start the server: cannot use s3:\/\/no-such-bucket-fex: .+\n$/,
      );
      const bad = await user.run(['serve', '--port', '0', '--storage', 'http://bucket']);
      assert.equal(bad.code, 2);
      assert.match(
        bad.stderr,
        /--storage: "http:\/\/bucket" is not s3:\/\/BUCKET or s3:\/\/BUCKET\/PREFIX\./,
      );
      const small = await user.run([
        'serve',
        '--port',
        '0',
        '--storage',
        's3://b',
        '--s3-part-size',
        '1MiB',
      ]);
      assert.equal(small.code, 2);
      assert.match(small.stderr, /--s3-part-size: "1MiB" is not a size of at least 5MiB/);
    });
  });

  /** The parts uploaded to the bucket's multipart uploads so far (Swift keeps them as segments). */
  async function uploadedParts(bucket: string): Promise<number> {
    const { ListPartsCommand } = await import('@aws-sdk/client-s3');
    let parts = 0;
    for (const { key, uploadId } of await openUploads(client, bucket)) {
      const listed = await client.send(
        new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }),
      );
      parts += listed.Parts?.length ?? 0;
    }
    return parts;
  }
}

/** The credential `fex register` saved for the user's only handle on its only server. */
async function credentialOf(user: User): Promise<string> {
  const state = JSON.parse(
    await readFile(join(user.home, 'config', 'fex', 'state.json'), 'utf8'),
  ) as { servers: Record<string, { credentials: Record<string, { credential: string }> }> };
  const [entry] = Object.values(state.servers);
  const [held] = Object.values(entry!.credentials);
  return held!.credential;
}
