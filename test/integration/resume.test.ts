/**
 * Resume through the real binary: an upload cut off mid-body continues from the bytes the server
 * holds when the same user stores the same file again; a download cut off continues from the
 * bytes held beside the destination. The whole-file checksum is verified either way, also for a
 * download large enough for the hashing thread (when a core is free), from the bytes held on.
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
import { OFF_THREAD_MIN_BYTES } from '../../src/shared/file-hash.js';

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

  /** A first attempt by the same user at storing `name` (`size` bytes), cut off after `sent`. */
  async function cutUpload(name: string, size: number, sent: Buffer): Promise<void> {
    const first = await rawConnect(server.port);
    first.send({ type: 'hello', id: 1, version: 1 });
    await first.next();
    const credential = await credentialOf(user, server.address, 'Resumer');
    first.send({ type: 'login', id: 2, handle: 'Resumer', credential });
    assert.equal((await first.next())?.type, 'ok');
    first.send({ type: 'store', id: 3, name, size });
    assert.equal((await first.next())?.offset, 0);
    first.send({ type: 'data', id: 3, offset: 0, body: size });
    first.sendBytes(sent);
    first.close();
    await first.closed;
    // The server has suspended the upload (and kept what arrived) once it says so.
    await server.waitForLine(new RegExp(`Resumer's upload of ${name} was cut off`));
  }

  /** `fex store name --json` by the same user; resolves with where it resumed. */
  async function storeAgain(name: string, expected: Buffer): Promise<number> {
    const r = await user.run(['store', name, '--json', '--server', server.address]);
    assert.equal(r.code, 0, r.stderr);
    const stored = JSON.parse(r.stdout) as { resumedFrom: number; sha256: string };
    assert.equal(stored.sha256, sha256(expected));
    assert.ok((await readFile(join(server.dir, name))).equals(expected));
    return stored.resumedFrom;
  }

  it('continues an upload cut off mid-body from the bytes the server holds', async () => {
    await cutUpload('Big.bin', data.length, data.subarray(0, 1024 * 1024));
    // Nothing is visible meanwhile.
    const probe = await greeted(server.port, 'Prober');
    probe.send({ type: 'get', id: 3, name: 'Big.bin' });
    assert.equal((await probe.next())?.code, 'E_NOT_FOUND');
    probe.close();
    assert.equal(await storeAgain('Big.bin', data), 1024 * 1024);
    assert.deepEqual(await readdir(join(server.dir, '.fex', 'partial')), []);
  });

  /**
   * Cuts an upload of `whole` after `cut` bytes, then checks that the same store is offered
   * exactly those bytes (resolving with the offer) and completes from there.
   */
  async function resumesAtCut(name: string, whole: Buffer, cut: number) {
    await cutUpload(name, whole.length, whole.subarray(0, cut));
    const again = await greeted(server.port);
    const credential = await credentialOf(user, server.address, 'Resumer');
    again.send({ type: 'login', id: 2, handle: 'Resumer', credential });
    assert.equal((await again.next())?.type, 'ok');
    again.send({ type: 'store', id: 3, name, size: whole.length });
    const offered = await again.next();
    assert.equal(offered?.offset, cut);
    assert.equal(offered?.sha256, sha256(whole.subarray(0, cut)));
    again.send({ type: 'data', id: 3, offset: cut }, whole.subarray(cut));
    again.send({ type: 'commit', id: 3, sha256: sha256(whole) });
    const stored = await again.next();
    assert.equal(stored?.resumedFrom, cut);
    assert.ok((await readFile(join(server.dir, name))).equals(whole));
    again.close();
    return offered;
  }

  for (const cut of [10, 500_000, 1024 * 1024 - 1, 3_850_000])
    it(`keeps every byte received before the cut, ${cut} of them`, async () => {
      await resumesAtCut(`Cut-${cut}.bin`, data, cut);
    });

  it('does what protocol.md’s worked example says: 6 of 16 bytes kept and offered', async () => {
    const offered = await resumesAtCut('Resume.txt', Buffer.from('Resume me, fex!\n'), 6);
    assert.equal(
      offered?.sha256,
      'd640c7421da066618a39daf4266da5f61f66a9b1afcd626481b831a17064965d',
    );
  });

  it('starts afresh when the bytes held are not this file’s', async () => {
    const other = Buffer.from(data);
    other[10] = other[10]! ^ 0xff;
    await writeFile(join(user.home, 'Other.bin'), other);
    await cutUpload('Other.bin', other.length, data.subarray(0, 512 * 1024));
    assert.equal(await storeAgain('Other.bin', other), 0);
  });

  /** What an interrupted `fex get NAME` leaves beside it: the first bytes and a version note. */
  async function interruptedGet(
    fetcher: User,
    held: Buffer,
    sha: string,
    name = 'Big.bin',
    size = data.length,
  ): Promise<void> {
    const part = join(fetcher.home, `.${sha256(name).slice(0, 16)}.fex-part`);
    await writeFile(part, held);
    await writeFile(`${part}.json`, JSON.stringify({ name, sha256: sha, size }));
  }

  /** `fex get NAME --json` as `handle`, checked against `expected`; resolves with where it resumed. */
  async function getResumed(
    fetcher: User,
    handle: string,
    name = 'Big.bin',
    expected = data,
  ): Promise<number> {
    const on = ['--server', server.address, '--handle', handle];
    const r = await fetcher.run(['get', name, '--json', ...on]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((await readFile(join(fetcher.home, name))).equals(expected));
    return (JSON.parse(r.stdout) as { resumedFrom: number }).resumedFrom;
  }

  it('continues a download from the bytes held beside the destination', async () => {
    const fetcher = await makeUser();
    await interruptedGet(fetcher, data.subarray(0, 1_000_000), sha256(data));
    assert.equal(await getResumed(fetcher, 'Fetcher'), 1_000_000);
    const left = (await readdir(fetcher.home)).filter((n) => n.includes('fex-part'));
    assert.deepEqual(left, []);
  });

  it('downloads afresh when the held bytes belong to an older version', async () => {
    const fetcher = await makeUser();
    await interruptedGet(fetcher, Buffer.alloc(1000, 1), sha256('old version'));
    assert.equal(await getResumed(fetcher, 'Fetcher2'), 0);
  });

  it('continues a large download from a whole number of MiB held, or any other length', async () => {
    const huge = randomBytes(OFF_THREAD_MIN_BYTES + 3 * 1024 * 1024 + 11);
    await writeFile(join(user.home, 'Huge.bin'), huge);
    assert.equal((await user.run(['store', 'Huge.bin', '--server', server.address])).code, 0);
    // The hash of the held bytes is where the download's hash goes on from, inline or threaded.
    for (const [i, held] of [1024 * 1024, 1_000_003].entries()) {
      const fetcher = await makeUser();
      await interruptedGet(fetcher, huge.subarray(0, held), sha256(huge), 'Huge.bin', huge.length);
      assert.equal(await getResumed(fetcher, `Huge${i}`, 'Huge.bin', huge), held);
    }
  });
});
