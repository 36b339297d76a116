/**
 * Load: 500 clients at once against one real server process, over loopback. Each one connects
 * with the client Session API, registers its own handle, stores a small file of its own, and,
 * once every file is in, fetches another client's file and checks it byte for byte. Reports the
 * wall time and the server's peak resident memory.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, describe, it } from 'node:test';
import { Session } from '../../src/client/session.js';
import { cleanup, startServer, tempDir } from '../helpers/harness.js';
import { procField } from '../helpers/proc.js';

const CLIENTS = 500;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('load', () => {
  after(cleanup);

  it(
    `serves ${CLIENTS} clients at once: register, store, fetch`,
    { timeout: 120_000 },
    async (t) => {
      // Each client costs this process one socket and, briefly, a file or two; the server one
      // socket and a file or two. Stay well inside the soft limit on open files.
      const [soft] = await procField('self', 'limits', 'Max open files');
      const fdLimit = soft === undefined || soft === 'unlimited' ? Infinity : Number(soft);
      const clients = Math.min(CLIENTS, Math.floor((fdLimit - 64) / 3));
      if (clients < CLIENTS)
        t.diagnostic(
          `open files limited to ${fdLimit} (ulimit -n): running ${clients} clients, not ${CLIENTS}`,
        );
      assert.ok(clients >= 50, `only ${clients} clients possible with ulimit -n ${fdLimit}`);

      const server = await startServer({ args: ['--max-connections', String(clients + 10)] });
      const work = await tempDir('fex-load-');
      await mkdir(join(work, 'in'));
      await mkdir(join(work, 'out'));
      const files = Array.from({ length: clients }, (_, i) =>
        Buffer.concat([Buffer.from(`client ${i}\n`), randomBytes(randomInt(4096, 16 * 1024))]),
      );
      await Promise.all(files.map((data, i) => writeFile(join(work, 'in', `f${i}.bin`), data)));

      const started = performance.now();
      const sessions: Session[] = [];
      let storedAll!: () => void;
      let failed!: (error: unknown) => void;
      const allStored = new Promise<void>((resolve, reject) => {
        storedAll = resolve;
        failed = reject;
      });
      allStored.catch(() => undefined);
      let stored = 0;
      let registered = 0;
      /** When the last client registered and when the last file was stored, from the start. */
      const phases = { registered: 0, stored: 0 };

      const client = async (i: number) => {
        try {
          const session = await Session.open({ host: '127.0.0.1', port: server.port });
          sessions.push(session);
          await session.register(`L${i}`);
          if (++registered === clients) phases.registered = performance.now() - started;
          const entry = await session.store(join(work, 'in', `f${i}.bin`));
          assert.equal(entry.sha256, sha256(files[i]!));
          if (++stored === clients) {
            phases.stored = performance.now() - started;
            storedAll();
          }
          await allStored;
          const other = (i + 1) % clients;
          const destination = join(work, 'out', `from-${other}.bin`);
          const got = await session.get(`f${other}.bin`, destination);
          assert.equal(got.size, files[other]!.length);
          assert.ok((await readFile(destination)).equals(files[other]!), `client ${i}`);
        } catch (error) {
          failed(error);
          throw error;
        }
      };
      try {
        await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
        const wall = performance.now() - started;

        // One more look from a client: every file listed, with its checksum.
        const listing = await sessions[0]!.dir();
        assert.equal(listing.length, clients);
        const byName = new Map(listing.map((f) => [f.name, f]));
        for (const [i, data] of files.entries())
          assert.equal(byName.get(`f${i}.bin`)?.sha256, sha256(data), `f${i}.bin`);

        const [hwm, unit] = await procField(server.process.pid!, 'status', 'VmHWM');
        const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
        const report =
          `${clients} concurrent clients: wall ${seconds(wall)} (all registered at ` +
          `${seconds(phases.registered)}, all stored at ${seconds(phases.stored)}); ` +
          `server peak RSS (VmHWM) ${hwm ?? '?'} ${unit ?? ''}`;
        t.diagnostic(report);
        console.log(`load: ${report}`);
        assert.equal(server.process.exitCode, null, 'the server stayed up');
      } finally {
        await Promise.all(sessions.map((s) => s.leave()));
      }
    },
  );
});
