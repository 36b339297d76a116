/**
 * kill -9 of the real server in the middle of renames: after each restart every file is under
 * exactly one of its two names, whole, and it is the name of the last acknowledged rename or of
 * the one in flight. The storage decides a rename with one journal line and finishes at start a
 * rename the kill cut before the file moved (docs/storage.md).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanup, startServer, type RunningServer } from '../helpers/harness.js';
import { greeted } from '../helpers/raw-client.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

interface Pair {
  names: [string, string];
  data: Buffer;
  /** The name of the last acknowledged rename (or the store). */
  acked: string;
  /** The name the rename in flight, if any, would give it. */
  next: string | undefined;
}

/** Stores `pair`'s file under its first name, then renames it back and forth without waiting. */
async function renameUntilKilled(
  server: RunningServer,
  pair: Pair,
  handle: string,
  answers: number,
) {
  const client = await greeted(server.port, handle);
  const [a, b] = pair.names;
  client.send(
    { type: 'store', id: 3, name: a, size: pair.data.length, sha256: sha256(pair.data) },
    pair.data,
  );
  assert.equal((await client.next())?.type, 'ok');
  pair.acked = a;
  const renames = 200;
  for (let i = 0; i < renames; i++) {
    const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
    client.send({ type: 'rename', id: 10 + i, name: from, to });
  }
  for (let i = 0; i < answers; i++) {
    const answer = await client.next();
    assert.equal(answer?.type, 'ok', JSON.stringify(answer));
    pair.acked = i % 2 === 0 ? b : a;
  }
  pair.next = pair.acked === a ? b : a;
  return client;
}

describe('renames cut by kill -9', () => {
  after(cleanup);

  it(
    'leave every file under exactly one of its two names, whole',
    { timeout: 120_000 },
    async () => {
      let server = await startServer();
      const { dir, port } = server;
      const pairs: Pair[] = [];
      for (let round = 0; round < 6; round++) {
        // A small file (its bytes in the journal until a checkpoint) and a larger one, each renamed
        // on its own connection, so the kill finds them at different steps.
        const small: Pair = {
          names: [`s${round}-a.txt`, `s${round}-b.txt`],
          data: Buffer.from(`small ${round}\n`),
          acked: '',
          next: undefined,
        };
        const large: Pair = {
          names: [`l${round}-a.bin`, `l${round}-b.bin`],
          data: Buffer.alloc(40_000 + round, round + 1),
          acked: '',
          next: undefined,
        };
        pairs.push(small, large);
        const clients = await Promise.all([
          renameUntilKilled(server, small, `Small${round}`, 3 + round * 5),
          renameUntilKilled(server, large, `Large${round}`, 1 + round * 7),
        ]);
        await server.stop('SIGKILL');
        for (const client of clients) client.close();
        server = await startServer({ dir, port });

        const onDisk = new Set((await readdir(dir)).filter((name) => name !== '.fex'));
        const checker = await greeted(server.port, `Checker${round}`);
        checker.send({ type: 'dir', id: 2 });
        const answer = await checker.next();
        const body: Buffer[] = [];
        for await (const chunk of checker.reader.body()) body.push(chunk);
        checker.close();
        assert.equal(answer?.type, 'ok');
        const listed = new Set(
          Buffer.concat(body)
            .toString('utf8')
            .split('\n')
            .filter(Boolean)
            .map((line) => (JSON.parse(line) as { name: string }).name),
        );
        for (const pair of pairs) {
          const present = pair.names.filter((name) => listed.has(name));
          assert.equal(
            present.length,
            1,
            `round ${round}: ${pair.names.join(' / ')} listed as ${present.join(', ')}`,
          );
          const [name] = present as [string];
          assert.ok(
            name === pair.acked || name === pair.next,
            `round ${round}: ${name}, acknowledged ${pair.acked}`,
          );
          assert.deepEqual(
            pair.names.filter((n) => onDisk.has(n)),
            [name],
            'on disk too',
          );
          assert.ok((await readFile(join(dir, name))).equals(pair.data), `${name} is whole`);
          pair.acked = name;
          pair.next = undefined;
        }
      }
      await server.stop();
    },
  );
});
