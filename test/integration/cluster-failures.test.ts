/**
 * The engines under a cluster failing in the middle of a transfer (docs/scaling.md): three real
 * `fex serve --storage s3://... --state redis://...` processes behind the real haproxy, on a
 * redis-server of this file's own (with its append-only file, so a restart keeps what it
 * acknowledged) and on the real Swift reached through a relay this file can cut. Either way the
 * client gets one clean line, nothing half-stored is listed or served, and the cluster serves
 * again, without a restart of its own, once the engine is back.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { uploadedLine, type User } from '../helpers/harness.js';
import { needService, startRedis, type OwnRedis } from '../helpers/services.js';
import { objectKeys } from '../helpers/s3-services.js';
import {
  MiB,
  registered,
  sha256File,
  startS3Cluster,
  until,
  uploadedParts,
  writeBigFile,
  type S3Cluster,
} from '../helpers/s3-cluster.js';
import { SwitchRelay } from '../helpers/switch-relay.js';

const LIMIT = { timeout: 300_000 };
const UNAVAILABLE =
  'Error: The server cannot reach its shared state. Please try again in a moment.\n';
const NOT_FOUND = 'Error: File not found in the server.\n';

interface Setup {
  cluster: S3Cluster;
  redis: OwnRedis;
  relay: SwitchRelay;
}
let started: Promise<Setup | undefined> | undefined;

async function setUp(t: TestContext): Promise<Setup | undefined> {
  const endpoint = needService(t, 's3');
  if (!endpoint || !needService(t, 'haproxy')) return undefined;
  const redis = await startRedis(t, { persist: true });
  if (!redis) return undefined;
  const relay = await new SwitchRelay(Number(new URL(endpoint).port)).start();
  const cluster = await startS3Cluster({
    servers: 3,
    endpoint,
    redisUrl: redis.url,
    s3Endpoint: `http://${relay.address}`,
  });
  return { cluster, redis, relay };
}

/** The file's one cluster, started by the first test that runs. */
function theSetup(t: TestContext): Promise<Setup | undefined> {
  started ??= setUp(t);
  return started;
}

/** The names `fex dir` lists through the balancer, once it answers (engines may be coming back). */
async function listed(user: User, address: string): Promise<string[]> {
  let out = '';
  await until('fex dir answering through the balancer', async () => {
    const r = await user.run(['dir', '--server', address]);
    out = r.stdout;
    return r.code === 0;
  });
  assert.match(out, /^Server Directory\n/);
  return out.split('\n').slice(1, -1);
}

describe('a cluster whose Redis or object store fails mid-transfer', () => {
  after(async () => {
    const setup = await started;
    await setup?.relay.stop();
    await setup?.cluster.close();
  });

  it(
    'refuses in one line while Redis restarts, shows nothing partial, serves again after',
    LIMIT,
    async (t) => {
      const setup = await theSetup(t);
      if (!setup) return;
      const { cluster, redis } = setup;
      const at = ['--server', cluster.address];
      const kim = await registered(cluster.address, 'Kim');
      const sum = await writeBigFile(join(kim.home, 'Big.bin'), 64 * MiB, 7);
      const transfer = kim.run(['store', 'Big.bin', ...at]);
      // Two parts in the store: the first one's record is then in Redis (parts go one at a time,
      // each recorded before the next is sent), and on its disk (appendfsync always).
      await until('two parts of the upload in the object store', async () => {
        return (await uploadedParts(cluster.s3, cluster.bucket)) >= 2;
      });
      await redis.stop();
      const cut = await transfer;
      assert.notEqual(cut.code, 0);
      // The same line as any request while Redis is away, not the Redis client's own words.
      assert.equal(cut.stderr, UNAVAILABLE, JSON.stringify(cut));
      assert.equal(cut.stdout, '');
      // Every request needs Redis (the handle, the index): refused in one line while it is away.
      const down = await kim.run(['dir', ...at]);
      assert.equal(down.stderr, UNAVAILABLE);
      assert.equal(down.code, 3);

      await redis.restart();
      // The servers reconnect by themselves, each in its own time (a request to one not back yet
      // gets the same one-line refusal): wait for all of them, as a balancer may pick any.
      await Promise.all(
        cluster.servers.map((server) => server.waitForLine(/shared state: Redis at \S+ is back$/)),
      );
      // Kim's handle was acknowledged, so it is still there.
      assert.deepEqual(await listed(kim, cluster.address), []);
      const missing = await kim.run(['get', 'Big.bin', ...at]);
      assert.equal(missing.stderr, NOT_FOUND);
      const again = await kim.run(['store', 'Big.bin', '--json', ...at]);
      assert.equal(again.code, 0, again.stderr);
      const stored = JSON.parse(again.stdout) as { resumedFrom: number; sha256: string };
      assert.equal(stored.sha256, sum);
      // Redis kept the upload's record: the parts held are taken over, not sent again.
      assert.ok(stored.resumedFrom >= 8 * MiB, `resumed from ${stored.resumedFrom}`);
      const got = await kim.run(['get', 'Big.bin', '-o', 'Back.bin', ...at]);
      assert.equal(got.code, 0, got.stderr);
      assert.equal(await sha256File(join(kim.home, 'Back.bin')), sum);
    },
  );

  it(
    'refuses in one line while the object store is unreachable, and serves again after',
    LIMIT,
    async (t) => {
      const setup = await theSetup(t);
      if (!setup) return;
      const { cluster, relay } = setup;
      const at = ['--server', cluster.address];
      const lee = await registered(cluster.address, 'Lee');
      const before = await listed(lee, cluster.address);
      const sum = await writeBigFile(join(lee.home, 'Cut.bin'), 40 * MiB, 8);
      // Cut the object store off once 12 MiB more have gone to it: in the middle of this upload.
      const from = relay.sent;
      relay.onSent = (sent) => {
        if (sent - from > 12 * MiB) relay.cut();
      };
      const cut = await lee.run(['store', 'Cut.bin', ...at]);
      relay.onSent = undefined;
      assert.equal(cut.code, 3, JSON.stringify(cut));
      assert.equal(
        cut.stderr,
        'Error: The server cannot reach its object store. Please try again in a moment.\n',
      );
      assert.deepEqual(await listed(lee, cluster.address), before);
      assert.equal((await lee.run(['get', 'Cut.bin', ...at])).stderr, NOT_FOUND);
      // A get of a file stored before fails in one line too, and leaves no half file behind.
      if (before.length > 0) {
        const get = await lee.run(['get', before[0]!, '-o', 'half.bin', ...at]);
        assert.equal(get.code, 3);
        assert.equal(
          get.stderr,
          'Error: The server cannot reach its object store. Please try again in a moment.\n',
        );
      }

      relay.mend();
      const again = await lee.run(['store', 'Cut.bin', ...at]);
      assert.match(again.stdout, uploadedLine('Lee', 'Cut.bin'), again.stderr);
      const got = await lee.run(['get', 'Cut.bin', '-o', 'Back.bin', ...at]);
      assert.equal(got.code, 0, got.stderr);
      assert.equal(await sha256File(join(lee.home, 'Back.bin')), sum);
      // One object per listed file: nothing of the cut-off upload became an object.
      const names = await listed(lee, cluster.address);
      assert.equal((await objectKeys(cluster.s3, cluster.bucket)).length, names.length);
    },
  );
});
