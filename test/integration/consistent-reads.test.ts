/**
 * Issue 15, item 6: a `get` while the owner replaces the file sends one version whole, the one its
 * header names. Before the fix the server took the record and then opened the path, so a rename in
 * between sent one version's SHA-256 with the next one's bytes, or E_INTERNAL when sizes differed.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { cleanup, startServer, type RunningServer } from '../helpers/harness.js';
import { greeted, type RawClient } from '../helpers/raw-client.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Version `n` of the file: 100 KB, or a size that changes with `n` when `sizes` is set. */
const version = (n: number, sizes: boolean) =>
  Buffer.alloc(sizes ? 90_000 + (n % 7) * 3_001 : 100_000, n % 251);

/** Stores `data` under `name` in steps (store, continue, data, commit). */
async function store(owner: RawClient, id: number, name: string, data: Buffer): Promise<void> {
  owner.send({ type: 'store', id, name, size: data.length });
  assert.equal((await owner.next())?.type, 'continue');
  owner.send({ type: 'data', id, offset: 0 }, data);
  owner.send({ type: 'commit', id, sha256: sha256(data) });
  const answer = await owner.next();
  assert.equal(answer?.type, 'ok', JSON.stringify(answer));
}

interface Tally {
  gets: number;
  mismatched: number;
  failures: string[];
}

/** Fetches `name` until `done()`, checking each body against its own header's SHA-256. */
async function fetchUntil(reader: RawClient, name: string, done: () => boolean): Promise<Tally> {
  const tally: Tally = { gets: 0, mismatched: 0, failures: [] };
  for (let id = 10; !done(); id++) {
    reader.send({ type: 'get', id, name });
    const answer = await reader.next();
    if (answer?.type !== 'ok') {
      tally.failures.push(JSON.stringify(answer));
      continue;
    }
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of reader.reader.body()) {
      hash.update(chunk);
      size += chunk.length;
    }
    tally.gets++;
    if (hash.digest('hex') !== answer.sha256 || size !== answer.size) tally.mismatched++;
  }
  return tally;
}

describe('a get during a replacement', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer();
  });
  after(cleanup);

  for (const sizes of [false, true])
    it(`sends the version its header names (${sizes ? 'changing' : 'same'} sizes)`, async () => {
      const name = sizes ? 'Changing.bin' : 'Same.bin';
      const owner = await greeted(server.port, sizes ? 'Changer' : 'Replacer');
      await store(owner, 3, name, version(0, sizes));
      const readers = await Promise.all(
        [1, 2, 3].map((n) => greeted(server.port, `${name.slice(0, 4)}Reader${n}`)),
      );
      let replacing = true;
      const tallies = Promise.all(readers.map((r) => fetchUntil(r, name, () => !replacing)));
      for (let n = 1; n <= 100; n++) await store(owner, 3 + n, name, version(n, sizes));
      replacing = false;
      const all = await tallies;
      for (const client of [owner, ...readers]) client.close();
      const gets = all.reduce((sum, t) => sum + t.gets, 0);
      assert.ok(gets >= 100, `only ${gets} downloads overlapped the replacements`);
      assert.deepEqual(
        all.flatMap((t) => t.failures),
        [],
      );
      assert.equal(
        all.reduce((sum, t) => sum + t.mismatched, 0),
        0,
        `of ${gets} downloads`,
      );
    });
});
