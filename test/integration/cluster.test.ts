/**
 * The cluster of docs/scaling.md as a user runs it: three real `fex serve --storage s3://...
 * --state redis://...` processes behind the real haproxy, on the real Swift (s3api) and Redis the
 * suite shares, driven through the real `fex` binary. One cluster for the whole file: shells on
 * three servers share one directory and hear each other's uploads; races for one handle and for
 * one name have one winner and no mixed bytes; a `kill -9` of the server carrying a 200 MiB upload
 * is survived by resuming on another server; and a restart of every server loses nothing that was
 * acknowledged. (Redis and the object store failing are cluster-failures.test.ts.)
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { LiveShell, stopShells } from './shell-support.js';
import { makeUser, uploadedLine, type RunResult, type User } from '../helpers/harness.js';
import { needService } from '../helpers/services.js';
import { objectKeys, openUploads } from '../helpers/s3-services.js';
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

const JOINED = 'Connection to the File Exchange Server is successful!';
const LIMIT = { timeout: 300_000 };
/** The servers' default part size (S3Storage): what a resume counts in. */
const PART = 8 * MiB;

let started: Promise<S3Cluster> | undefined;

/** The file's one cluster, started by the first test that runs (or skipped with the reason). */
async function theCluster(t: TestContext): Promise<S3Cluster | undefined> {
  const endpoint = needService(t, 's3');
  const redisUrl = needService(t, 'redis');
  if (!endpoint || !redisUrl || !needService(t, 'haproxy')) return undefined;
  started ??= startS3Cluster({ servers: 3, endpoint, redisUrl });
  return started;
}

describe('three fex servers on one object store and one Redis, behind haproxy', () => {
  after(async () => {
    await stopShells();
    if (started) await (await started).close();
  });

  it(
    'shows three shells on three servers one directory and each other’s uploads live',
    LIMIT,
    async (t) => {
      const cluster = await theCluster(t);
      if (!cluster) return;
      const handles = ['Ann', 'Bob', 'Cid'];
      const users = await Promise.all(handles.map(() => makeUser()));
      // Each shell joins a server of its own, so every upload crosses servers to reach two of them.
      const shells = users.map((user) => LiveShell.start(user));
      for (const [i, shell] of shells.entries()) {
        assert.deepEqual(await shell.run(`/join 127.0.0.1 ${cluster.servers[i]!.port}`), [JOINED]);
        assert.deepEqual(await shell.run(`/register ${handles[i]}`), [`Welcome ${handles[i]}!`]);
      }
      for (const [i, shell] of shells.entries()) {
        const name = `${handles[i]}.txt`;
        await writeFile(join(users[i]!.home, name), `${handles[i]} was here\n`);
        const line = `${handles[i]}<TIME>: Uploaded ${name}`;
        assert.deepEqual(await shell.run(`/store ${name}`), [line]);
        for (const other of shells.filter((s) => s !== shell))
          assert.equal(await other.next(), line);
      }
      // A one-shot store through the balancer reaches all three shells too.
      const dee = await registered(cluster.address, 'Dee');
      await writeFile(join(dee.home, 'Dee.bin'), Buffer.alloc(3 * MiB, 7));
      const stored = await dee.run(['store', 'Dee.bin', '--server', cluster.address]);
      assert.match(stored.stdout, uploadedLine('Dee', 'Dee.bin'), stored.stderr);
      for (const shell of shells) assert.equal(await shell.next(), 'Dee<TIME>: Uploaded Dee.bin');

      const listing = ['Server Directory', 'Ann.txt', 'Bob.txt', 'Cid.txt', 'Dee.bin'];
      for (const shell of shells) assert.deepEqual(await shell.run('/dir', 5), listing);
      // And a file stored through one server comes back whole through another.
      assert.deepEqual(await shells[2]!.run('/get Ann.txt'), [
        'File received from Server: Ann.txt',
      ]);
      for (const shell of shells) assert.equal(await shell.end(), 0);
    },
  );

  it(
    'lets exactly one of three registrations of one handle at the same moment win',
    LIMIT,
    async (t) => {
      const cluster = await theCluster(t);
      if (!cluster) return;
      for (let round = 0; round < 4; round++) {
        const users: User[] = await Promise.all(cluster.servers.map(() => makeUser()));
        const handle = `Race${round}`;
        const cases = [handle, handle.toLowerCase(), handle.toUpperCase()];
        // One request to each server at once, in cases that name the same handle.
        const results: RunResult[] = await Promise.all(
          users.map((user, i) =>
            user.run(['register', cases[i]!, '--server', cluster.servers[i]!.address]),
          ),
        );
        const won = results.filter((r) => r.code === 0);
        assert.equal(won.length, 1, JSON.stringify(results));
        for (const lost of results.filter((r) => r.code !== 0)) {
          assert.equal(
            lost.stderr,
            'Error: Registration failed. Handle or alias already exists.\n',
          );
          assert.equal(lost.code, 5);
        }
        // The winner's credential works; the handle is taken for anyone, through any server.
        const w = results.indexOf(won[0]!);
        const spelled = cases[w]!;
        const login = await users[w]!.run([
          'login',
          spelled,
          '--server',
          cluster.servers[w]!.address,
        ]);
        assert.equal(login.stdout, `Welcome ${spelled}!\n`, login.stderr);
        const late = await makeUser();
        const taken = await late.run(['register', handle, '--server', cluster.address]);
        assert.equal(taken.code, 5, taken.stderr);
      }
    },
  );

  it(
    'gives one name stored at the same moment by two handles one owner, and no mixed bytes',
    LIMIT,
    async (t) => {
      const cluster = await theCluster(t);
      if (!cluster) return;
      // Each stores through a server of its own (a client keeps credentials per address).
      const eve = await registered(cluster.servers[0]!.address, 'Eve');
      const fay = await registered(cluster.servers[1]!.address, 'Fay');
      for (let round = 0; round < 3; round++) {
        const name = `Same${round}.bin`;
        // Two parts each, different bytes in every MiB: a mix of the two would show in the hash.
        const sums = await Promise.all(
          [eve, fay].map((user, i) => writeBigFile(join(user.home, name), 12 * MiB, round * 2 + i)),
        );
        const results: RunResult[] = await Promise.all(
          [eve, fay].map((user, i) =>
            user.run(['store', name, '--server', cluster.servers[i]!.address]),
          ),
        );
        const winner = results.findIndex((r) => r.code === 0);
        assert.notEqual(winner, -1, JSON.stringify(results));
        const loser = 1 - winner;
        const owner = ['Eve', 'Fay'][winner]!;
        assert.match(results[winner]!.stdout, uploadedLine(owner, name));
        assert.equal(
          results[loser]!.stderr,
          `Error: ${name} belongs to ${owner}; only its owner may replace it.\n`,
        );
        // Read back by the loser through its server, not the winner's: the winner's bytes, whole.
        const reader = [eve, fay][loser]!;
        const got = await reader.run([
          'get',
          name,
          '-o',
          `back-${name}`,
          '--server',
          cluster.servers[loser]!.address,
        ]);
        assert.equal(got.code, 0, got.stderr);
        assert.equal(await sha256File(join(reader.home, `back-${name}`)), sums[winner]);
        const long = await reader.run([
          'dir',
          '--json',
          '--server',
          cluster.servers[loser]!.address,
        ]);
        const { files } = JSON.parse(long.stdout) as {
          files: Array<{ name: string; owner: string }>;
        };
        const entry = files.find((file) => file.name === name);
        assert.equal(entry?.owner, owner);
      }
      // The loser's upload left nothing behind: no multipart upload, one object per file.
      assert.deepEqual(await openUploads(cluster.s3, cluster.bucket), []);
      const listed = await eve.run(['dir', '--server', cluster.servers[0]!.address]);
      const names = listed.stdout.trim().split('\n').slice(1);
      assert.equal((await objectKeys(cluster.s3, cluster.bucket)).length, names.length);
    },
  );

  it(
    'resumes a 200 MiB upload on another server after kill -9 of the one carrying it',
    LIMIT,
    async (t) => {
      const cluster = await theCluster(t);
      if (!cluster) return;
      const gus = await registered(cluster.address, 'Gus');
      const size = 200 * MiB;
      const sum = await writeBigFile(join(gus.home, 'Big.bin'), size, 42);
      const at = ['--server', cluster.address];
      const first = gus.run(['store', 'Big.bin', ...at]);
      await until('four parts of the upload in the object store', async () => {
        return (await uploadedParts(cluster.s3, cluster.bucket)) >= 4;
      });
      // The server carrying it is the one haproxy holds a client connection to.
      const sessions = await cluster.balancer.sessions();
      const carrier = sessions.findIndex((n) => n > 0);
      assert.deepEqual(
        sessions.map((n, i) => (i === carrier ? 1 : n)),
        [1, 1, 1].map((one, i) => (i === carrier ? one : 0)),
        `one connection, on one server: ${sessions}`,
      );
      const held = await uploadedParts(cluster.s3, cluster.bucket);
      await cluster.kill9(carrier);
      const cut = await first;
      assert.notEqual(cut.code, 0);
      assert.match(cut.stderr, /^Error: [^\n]+\n$/, JSON.stringify(cut));
      t.diagnostic(`the store cut off by the kill: ${cut.stderr.trim()}`);

      // The next attempt, as the user types it again: haproxy sends it to a live server.
      const again = await gus.run(['store', 'Big.bin', '--json', ...at]);
      assert.equal(again.code, 0, again.stderr);
      const result = JSON.parse(again.stdout) as {
        resumedFrom: number;
        sha256: string;
        size: number;
      };
      // From the parts already held (the last one seen may not have been recorded before the kill).
      assert.ok(
        result.resumedFrom >= (held - 1) * PART && result.resumedFrom % PART === 0,
        `resumed from ${result.resumedFrom}, with ${held} parts of ${PART} held`,
      );
      assert.equal(result.size, size);
      assert.equal(result.sha256, sum);
      assert.equal(cluster.servers[carrier]!.process.signalCode, 'SIGKILL');
      t.diagnostic(`resumed from ${result.resumedFrom / MiB} MiB of ${size / MiB} MiB`);

      const got = await gus.run(['get', 'Big.bin', '-o', 'Back.bin', ...at]);
      assert.equal(got.code, 0, got.stderr);
      assert.equal(await sha256File(join(gus.home, 'Back.bin')), sum);
      assert.deepEqual(await openUploads(cluster.s3, cluster.bucket), []);
      await cluster.restart(carrier);
    },
  );

  it(
    'loses nothing acknowledged when every server is killed and started again',
    LIMIT,
    async (t) => {
      const cluster = await theCluster(t);
      if (!cluster) return;
      const handles = ['Hal', 'Ida', 'Jo'];
      const users: User[] = [];
      const sums = new Map<string, string>();
      for (const [i, handle] of handles.entries()) {
        const user = await registered(cluster.address, handle);
        users.push(user);
        const name = `${handle}.bin`;
        sums.set(name, await writeBigFile(join(user.home, name), 9 * MiB + i, 100 + i));
        const r = await user.run(['store', name, '--server', cluster.address]);
        assert.match(r.stdout, uploadedLine(handle, name), r.stderr);
      }
      const before = await users[0]!.run(['dir', '--long', '--server', cluster.address]);
      assert.equal(before.code, 0, before.stderr);

      for (const i of cluster.servers.keys()) await cluster.kill9(i);
      for (const i of cluster.servers.keys()) await cluster.restart(i);

      const afterwards = await users[0]!.run(['dir', '--long', '--server', cluster.address]);
      assert.equal(afterwards.stdout, before.stdout);
      for (const [i, handle] of handles.entries()) {
        const user = users[i]!;
        const login = await user.run(['login', handle, '--server', cluster.address]);
        assert.equal(login.stdout, `Welcome ${handle}!\n`, login.stderr);
        const name = `${handle}.bin`;
        const got = await user.run(['get', name, '-o', 'again.bin', '--server', cluster.address]);
        assert.equal(got.code, 0, got.stderr);
        assert.equal(await sha256File(join(user.home, 'again.bin')), sums.get(name));
      }
    },
  );
});
