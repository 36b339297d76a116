/**
 * The object store out of reach, as the users of `fex serve --storage s3://` meet it, through the
 * real binary on the real Swift behind a relay: refused connections and an overloaded store
 * (503 SlowDown, after the SDK's retries) answer each request that needs the store with the line
 * of an outage (E_UNAVAILABLE, exit 3), the SDK's reason in the server's log line; `dir` and
 * `rename` (the index only) go on; a delete is done at once and its object deleted once the
 * store is back; everything comes back by itself. A bucket deleted under the server is an
 * operator's error, said so (E_INTERNAL, exit 1). (A store cut mid-upload: s3-serve.test.ts.)
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { pattern } from '../../src/testing/storage-contract.js';
import { makeUser, type RunningServer, type User } from '../helpers/harness.js';
import { SwitchRelay } from '../helpers/switch-relay.js';
import { until } from '../helpers/until.js';
import {
  dropBucket,
  fileBuckets,
  objectKeys,
  serveOnBucket,
  services,
} from '../helpers/s3-services.js';

const AWAY = 'Error: The server cannot reach its object store. Please try again in a moment.\n';

const found = services('FEX_TEST_S3_ENDPOINT');
if (found) {
  const endpoint = found.FEX_TEST_S3_ENDPOINT;
  const { client, bucket: ownBucket } = fileBuckets(endpoint);

  async function setUp(via: string): Promise<{ server: RunningServer; bucket: string; ann: User }> {
    const bucket = await ownBucket();
    const server = await serveOnBucket(bucket, via);
    const ann = await makeUser();
    const r = await ann.run(['register', 'Ann', '--server', server.address]);
    assert.equal(r.code, 0, r.stderr);
    return { server, bucket, ann };
  }

  describe('fex serve --storage s3:// while the object store is out of reach', () => {
    it('answers E_UNAVAILABLE in one line when the store refuses connections, and is back with it', async () => {
      const relay = await new SwitchRelay(Number(new URL(endpoint).port)).start();
      after(() => relay.stop().catch(() => undefined));
      const { server, bucket, ann } = await setUp(`http://127.0.0.1:${relay.port}`);
      const at = ['--server', server.address];
      const data = pattern(300_000, 3);
      await writeFile(join(ann.home, 'Kept.bin'), data);
      await writeFile(join(ann.home, 'Gone.bin'), data.subarray(0, 1000));
      await writeFile(join(ann.home, 'New.bin'), data.subarray(0, 2000));
      for (const name of ['Kept.bin', 'Gone.bin'])
        assert.equal((await ann.run(['store', name, ...at])).code, 0);

      // Nothing listens where the store was: every new connection is refused.
      const port = relay.port;
      await relay.stop();
      let r = await ann.run(['store', 'New.bin', ...at]);
      assert.deepEqual([r.code, r.stderr, r.stdout], [3, AWAY, '']);
      r = await ann.run(['get', 'Kept.bin', '-o', 'Back.bin', ...at]);
      assert.deepEqual([r.code, r.stderr], [3, AWAY]);
      // The operator reads why, in the request's one line and once as the store's state.
      const line = await server.waitForLine(/Ann get Kept\.bin refused \(E_UNAVAILABLE\)/);
      assert.match(
        line,
        / refused \(E_UNAVAILABLE\): The server cannot reach its object store\. Please try again in a moment\. \(Error ECONNREFUSED: connect ECONNREFUSED 127\.0\.0\.1:\d+\)$/,
      );
      assert.match(
        server.stderr(),
        new RegExp(
          `object store: lost the bucket ${bucket} \\(Error ECONNREFUSED: [^\\n]+\\); requests that need it fail with E_UNAVAILABLE until it is back\\n`,
        ),
      );
      assert.equal(server.stderr().match(/object store: lost/g)?.length, 1);
      assert.doesNotMatch(server.stderr(), /\n\s+at /);

      // What only reads or changes the index goes on.
      r = await ann.run(['rename', 'Kept.bin', 'Still.bin', ...at]);
      assert.equal(r.code, 0, r.stderr);
      r = await ann.run(['delete', 'Gone.bin', ...at]);
      assert.equal(r.code, 0, r.stderr);
      r = await ann.run(['dir', ...at]);
      assert.equal(r.stdout, 'Server Directory\nStill.bin\n');

      // Back on the same port: the next request is served, and the deleted file's object goes.
      await relay.start(port);
      r = await ann.run(['get', 'Still.bin', '-o', 'Back.bin', ...at]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok((await readFile(join(ann.home, 'Back.bin'))).equals(data));
      await server.waitForLine(new RegExp(`object store: the bucket ${bucket} is back$`));
      await until('the deleted file object deleted', async () => {
        return (await objectKeys(client, bucket)).length === 1;
      });
      r = await ann.run(['store', 'New.bin', ...at]);
      assert.equal(r.code, 0, r.stderr);
      await server.stop();
    });

    it('answers E_UNAVAILABLE when the store answers 503 SlowDown past the retries', async () => {
      const relay = await new SwitchRelay(Number(new URL(endpoint).port)).start();
      after(() => relay.stop());
      const { server, ann } = await setUp(`http://127.0.0.1:${relay.port}`);
      const at = ['--server', server.address];
      const data = pattern(100_000, 5);
      await writeFile(join(ann.home, 'Busy.bin'), data);
      assert.equal((await ann.run(['store', 'Busy.bin', ...at])).code, 0);

      relay.overload();
      let r = await ann.run(['get', 'Busy.bin', '-o', 'Back.bin', ...at]);
      assert.deepEqual([r.code, r.stderr], [3, AWAY]);
      const line = await server.waitForLine(/Ann get Busy\.bin refused/);
      assert.match(line, /\(SlowDown: Please reduce your request rate\.\)$/);
      await writeFile(join(ann.home, 'Again.bin'), data);
      r = await ann.run(['store', 'Again.bin', ...at]);
      assert.deepEqual([r.code, r.stderr], [3, AWAY]);

      relay.mend();
      r = await ann.run(['get', 'Busy.bin', '-o', 'Back.bin', ...at]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok((await readFile(join(ann.home, 'Back.bin'))).equals(data));
      await server.stop();
    });

    it('says a bucket deleted under the server is for its operator to mend (exit 1), and serves once it is back', async () => {
      const { server, bucket, ann } = await setUp(endpoint);
      const at = ['--server', server.address];
      await writeFile(join(ann.home, 'Lost.bin'), 'bytes');
      await dropBucket(client, bucket);
      const missing =
        `Error: The server failed to handle the request: its object store has no bucket "${bucket}"; ` +
        "the server's operator must create it or correct --storage\n";
      const r = await ann.run(['store', 'Lost.bin', ...at]);
      assert.deepEqual([r.code, r.stderr], [1, missing]);
      // A failure, not a refusal: on the server's stderr.
      await until('the failed line in the log', () =>
        /Ann store Lost\.bin failed/.test(server.stderr()),
      );
      assert.match(
        server.stderr(),
        /Ann store Lost\.bin failed \(E_INTERNAL\): The server failed to handle the request: its object store has no bucket "[^"]+"; the server's operator must create it or correct --storage \(NoSuchBucket: [^\n]+\)\n/,
      );
      // An operator's error, not an outage: the store is not reported lost.
      assert.doesNotMatch(server.stderr(), /object store: lost/);

      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      const again = await ann.run(['store', 'Lost.bin', ...at]);
      assert.equal(again.code, 0, again.stderr);
      await server.stop();
    });
  });
}
