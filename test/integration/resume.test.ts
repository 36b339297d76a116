/**
 * Resume through the real binary: an upload cut off mid-body continues from the bytes the server
 * holds when the same user stores the same file again; a download cut off continues from the
 * bytes held beside the destination. The whole-file checksum is verified either way.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  cleanup,
  makeUser,
  startServer,
  type RunningServer,
  type User,
} from '../helpers/harness.js';
import { greeted, rawConnect } from '../helpers/raw-client.js';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** The credential `fex register` remembered for `handle` on `server`. */
async function credentialOf(user: User, server: string, handle: string): Promise<string> {
  const state = JSON.parse(
    await readFile(join(user.home, 'config', 'fex', 'state.json'), 'utf8'),
  ) as {
    servers: Record<string, { credentials: Record<string, { credential: string }> }>;
  };
  // Keyed by the server's lasting id; this test's client knows one server only.
  void server;
  const [entry] = Object.values(state.servers);
  return entry!.credentials[handle.toLowerCase()]!.credential;
}

describe('resume', () => {
  let server: RunningServer;
  let user: User;
  const data = randomBytes(4 * 1024 * 1024 + 17);

  before(async () => {
    server = await startServer();
    user = await makeUser();
    await writeFile(join(user.home, 'Big.bin'), data);
    assert.equal((await user.run(['register', 'Resumer', '--server', server.address])).code, 0);
  });
  after(cleanup);

  it('continues an upload cut off mid-body from the bytes the server holds', async () => {
    // The first attempt: the same user, cut off after 1 MiB.
    const first = await rawConnect(server.port);
    first.send({ type: 'hello', id: 1, version: 1 });
    await first.next();
    first.send({
      type: 'login',
      id: 2,
      handle: 'Resumer',
      credential: await credentialOf(user, server.address, 'Resumer'),
    });
    assert.equal((await first.next())?.type, 'ok');
    first.send({ type: 'store', id: 3, name: 'Big.bin', size: data.length });
    assert.deepEqual((await first.next())?.offset, 0);
    first.send({ type: 'data', id: 3, offset: 0, body: data.length });
    first.sendBytes(data.subarray(0, 1024 * 1024));
    first.close();
    await first.closed;
    // Nothing is visible meanwhile.
    const probe = await greeted(server.port, 'Prober');
    probe.send({ type: 'get', id: 3, name: 'Big.bin' });
    assert.equal((await probe.next())?.code, 'E_NOT_FOUND');
    probe.close();

    const r = await user.run(['store', 'Big.bin', '--json', '--server', server.address]);
    assert.equal(r.code, 0, r.stderr);
    const stored = JSON.parse(r.stdout) as { resumedFrom: number; sha256: string };
    assert.ok(
      stored.resumedFrom > 0 && stored.resumedFrom <= 1024 * 1024,
      String(stored.resumedFrom),
    );
    assert.equal(stored.sha256, sha256(data));
    assert.ok((await readFile(join(server.dir, 'Big.bin'))).equals(data));
    assert.deepEqual(await readdir(join(server.dir, '.fex', 'partial')), []);
  });

  it('starts afresh when the bytes held are not this file’s', async () => {
    const other = Buffer.from(data);
    other[10] = other[10]! ^ 0xff;
    await writeFile(join(user.home, 'Other.bin'), other);
    const first = await rawConnect(server.port);
    first.send({ type: 'hello', id: 1, version: 1 });
    await first.next();
    first.send({
      type: 'login',
      id: 2,
      handle: 'Resumer',
      credential: await credentialOf(user, server.address, 'Resumer'),
    });
    await first.next();
    first.send({ type: 'store', id: 3, name: 'Other.bin', size: other.length });
    await first.next();
    first.send({ type: 'data', id: 3, offset: 0, body: other.length });
    first.sendBytes(data.subarray(0, 512 * 1024)); // the bytes of another file
    first.close();
    await first.closed;
    const r = await user.run(['store', 'Other.bin', '--json', '--server', server.address]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { resumedFrom: number }).resumedFrom, 0);
    assert.ok((await readFile(join(server.dir, 'Other.bin'))).equals(other));
  });

  /** What an interrupted `fex get Big.bin` leaves beside it: the first bytes and a version note. */
  async function interruptedGet(fetcher: User, held: Buffer, sha: string): Promise<void> {
    const part = join(fetcher.home, `.${sha256('Big.bin').slice(0, 16)}.fex-part`);
    await writeFile(part, held);
    await writeFile(
      `${part}.json`,
      JSON.stringify({ name: 'Big.bin', sha256: sha, size: data.length }),
    );
  }

  /** `fex get Big.bin --json` as `handle`; resolves with where it resumed. */
  async function getBig(fetcher: User, handle: string): Promise<number> {
    const on = ['--server', server.address, '--handle', handle];
    const r = await fetcher.run(['get', 'Big.bin', '--json', ...on]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((await readFile(join(fetcher.home, 'Big.bin'))).equals(data));
    return (JSON.parse(r.stdout) as { resumedFrom: number }).resumedFrom;
  }

  it('continues a download from the bytes held beside the destination', async () => {
    const fetcher = await makeUser();
    await interruptedGet(fetcher, data.subarray(0, 1_000_000), sha256(data));
    assert.equal(await getBig(fetcher, 'Fetcher'), 1_000_000);
    const left = (await readdir(fetcher.home)).filter((n) => n.includes('fex-part'));
    assert.deepEqual(left, []);
  });

  it('downloads afresh when the held bytes belong to an older version', async () => {
    const fetcher = await makeUser();
    await interruptedGet(fetcher, Buffer.alloc(1000, 1), sha256('old version'));
    assert.equal(await getBig(fetcher, 'Fetcher2'), 0);
  });
});
