/**
 * Load and abuse (docs/security.md, M1 to M3): clients that never read, against one real server
 * process over loopback, at a scale CI affords. Each attack asserts that the server's peak
 * resident memory stays under a stated bound and that a fresh client is served throughout.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { Session } from '../../src/client/session.js';
import type { Header } from '../../src/protocol/constants.js';
import { cleanup, makeUser, startServer, type RunningServer } from '../helpers/harness.js';
import { peakRssMiB } from '../helpers/proc.js';
import { greeted, type RawClient } from '../helpers/raw-client.js';

const ONE_BYTE = Buffer.from('x');
const ONE_BYTE_SHA = createHash('sha256').update(ONE_BYTE).digest('hex');
/**
 * The server's peak RSS must stay under this. It idles at about 70 MiB; the attacks below cost
 * about 300 MiB (events) and 250 MiB (listings) more without the bounds, about 40 MiB with them.
 */
const RSS_BOUND_MIB = 180;

/** Stores 1-byte files under `names`, pipelined on one connection; resolves once all are in. */
async function storeAll(client: RawClient, names: string[], firstId: number): Promise<void> {
  const answers = (async () => {
    for (let i = 0; i < names.length; i++) {
      const answer = await client.next();
      assert.equal(answer?.type, 'ok', JSON.stringify(answer));
    }
  })();
  names.forEach((name, i) =>
    client.send({ type: 'store', id: firstId + i, name, size: 1, sha256: ONE_BYTE_SHA }, ONE_BYTE),
  );
  await answers;
}

/** A connection acting as `handle` (with `credential`), that will read nothing from now on. */
async function loggedIn(server: RunningServer, handle: string, credential: string) {
  const client = await greeted(server.port);
  client.send({ type: 'login', id: 2, handle, credential });
  assert.equal((await client.next())?.type, 'ok');
  return client;
}

async function register(server: RunningServer, handle: string) {
  const client = await greeted(server.port);
  client.send({ type: 'register', id: 2, handle });
  const answer = await client.next();
  return { client, credential: answer?.credential as string };
}

/** A client that has never been here: connect, register, list a page, leave. */
async function freshClient(server: RunningServer, n: number): Promise<void> {
  const session = await Session.open({ host: '127.0.0.1', port: server.port });
  try {
    await session.register(`Fresh${n}`);
    await session.dir({ limit: 5 });
  } finally {
    await session.leave();
  }
}

/** Runs `attack`, with a fresh client served again and again until it ends; all must succeed. */
async function servedThroughout(server: RunningServer, attack: Promise<unknown>) {
  let done = false;
  const ended = attack.finally(() => (done = true));
  let served = 0;
  while (!done) await Promise.race([freshClient(server, served++), ended]);
  await ended;
  await freshClient(server, served++);
  return served;
}

describe('load and abuse', () => {
  after(cleanup);

  it(
    'bounds the events held for clients that never read, and tells them what they missed',
    { timeout: 180_000 },
    async (t) => {
      const server = await startServer({ args: ['--max-connections-per-handle', '0'] });
      const { client: uploader } = await register(server, 'Up');
      const { credential: idleCredential } = await register(server, 'Idle');
      // 40 connections that never read: every store queues an event on each of them.
      const idle = await Promise.all(
        Array.from({ length: 40 }, () => loggedIn(server, 'Idle', idleCredential)),
      );
      const long = 'n'.repeat(200);
      const names = Array.from({ length: 12_000 }, (_, i) => `${long}-${i}.txt`);
      const served = await servedThroughout(server, storeAll(uploader, names, 10));
      const peak = await peakRssMiB(server.process.pid!);
      t.diagnostic(
        `12000 stores, 40 idle readers: peak RSS ${peak?.toFixed(0)} MiB, ${served} fresh clients served`,
      );
      if (peak !== undefined) assert.ok(peak < RSS_BOUND_MIB, `peak RSS ${peak} MiB`);

      // One of them reads at last: the events it was sent, then how many it missed.
      const reader = idle[0]!;
      let header: Header | null;
      do header = await reader.reader.next();
      while (header && header.event !== 'dropped');
      assert.ok(header, 'a "dropped" event arrives');
      assert.ok((header.count as number) > 0);
      assert.equal(server.process.exitCode, null, 'the server stayed up');
    },
  );

  it(
    'streams listings to clients that never read them, and pages them for everyone',
    { timeout: 180_000 },
    async (t) => {
      const server = await startServer({ args: ['--max-connections-per-handle', '0'] });
      const { client: owner, credential } = await register(server, 'Lister');
      // Names JSON escapes: 1500 files make a listing of about 0.9 MB.
      const quoted = '"'.repeat(200);
      const names = Array.from(
        { length: 1500 },
        (_, i) => `q${String(i).padStart(4, '0')}${quoted}`,
      );
      await storeAll(owner, names, 10);
      const before = await peakRssMiB(server.process.pid!);

      // 150 connections ask for the whole listing and never read it.
      const attack = (async () => {
        for (let i = 0; i < 150; i++) {
          const client = await loggedIn(server, 'Lister', credential);
          client.send({ type: 'dir', id: 3 });
        }
      })();
      const served = await servedThroughout(server, attack);
      const peak = await peakRssMiB(server.process.pid!);
      t.diagnostic(
        `150 unread listings of 1500 files: peak RSS ${before?.toFixed(0)} -> ${peak?.toFixed(0)} MiB, ${served} fresh clients served`,
      );
      if (peak !== undefined) assert.ok(peak < RSS_BOUND_MIB, `peak RSS ${peak} MiB`);

      // The real client lists it all, a page at a time, in order.
      const user = await makeUser();
      await user.run(['register', 'Reader1', '--server', server.address]);
      const result = await user.run(['dir']);
      assert.equal(result.stderr, '');
      assert.equal(result.code, 0);
      assert.deepEqual(result.stdout.split('\n'), ['Server Directory', ...names, '']);
    },
  );
});
