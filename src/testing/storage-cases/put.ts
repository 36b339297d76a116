/** The storage contract's cases of put, write and commit: what becomes visible, and what a failed upload leaves (nothing). */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Storage } from '../../server/storage/storage.js';
import {
  sha256,
  chunked,
  pattern,
  store,
  storePut,
  drain,
  contents,
  fexCode,
  statOf,
  assertAbsent,
  type SuiteContext,
} from '../storage-helpers.js';

export function putCases({ empty }: SuiteContext): void {
  it('makes a committed file visible whole, with its size, owner and sha256', async () => {
    const storage = await empty();
    const data = pattern(300_000, 1);
    const before = Date.now();
    const stored = await store(storage, 'Hello.txt', 'User1', data);
    const expected = {
      name: 'Hello.txt',
      size: data.length,
      owner: 'User1',
      sha256: sha256(data),
    };
    assert.deepEqual({ ...stored, time: 0 }, { ...expected, time: 0 });
    assert.ok(stored.time >= before && stored.time <= Date.now(), 'stored time is now');
    assert.deepEqual(await statOf(storage, 'Hello.txt'), stored);
    assert.deepEqual(await storage.list(), [stored]);
    const read = await storage.read('Hello.txt');
    assert.deepEqual(read.file, stored);
    assert.ok((await drain(read.stream)).equals(data));
  });

  it('lists a page after a name, by prefix and limit, and counts files per owner', async () => {
    const storage = await empty();
    for (const name of ['b2', 'a1', 'b1', 'B0']) await store(storage, name, 'Ann', name);
    await store(storage, 'b3', 'Bob', 'b3');
    const names = async (options?: Parameters<Storage['list']>[0]) =>
      (await storage.list(options)).map((f) => f.name);
    assert.deepEqual(await names(), ['B0', 'a1', 'b1', 'b2', 'b3']);
    assert.deepEqual(await names({ prefix: 'b', limit: 2 }), ['b1', 'b2']);
    assert.deepEqual(await names({ prefix: 'b', after: 'b1' }), ['b2', 'b3']);
    assert.deepEqual(await names({ after: 'a1', limit: 1 }), ['b1']);
    const counts = (...owners: Array<string | undefined>) =>
      Promise.all(owners.map((owner) => storage.count(owner)));
    assert.deepEqual(await counts(undefined, 'Ann', 'Bob'), [5, 4, 1]);
    await store(storage, 'b1', 'Ann', 'again');
    await storage.remove('b2', 'Ann');
    assert.deepEqual(await counts(undefined, 'Ann'), [4, 3]);
    // A rename moves the name in the order; an expired file is skipped and the page filled on.
    await storage.rename('a1', 'c1', 'Ann');
    await storePut(storage, 'b2', { owner: 'Bob', ageMs: 0 }, 'gone');
    assert.deepEqual(await names({ after: 'b1', limit: 2 }), ['b3', 'c1']);
    assert.deepEqual(await names({ prefix: 'c' }), ['c1']);
    await storage.expire(Date.now());
    assert.deepEqual(await counts(undefined, 'Ann', 'Bob'), [4, 3, 1]);
  });

  it('stores an empty file', async () => {
    const storage = await empty();
    const stored = await store(storage, 'empty', 'User1', Buffer.alloc(0));
    assert.equal(stored.size, 0);
    assert.equal(stored.sha256, sha256(''));
    assert.equal((await contents(storage, 'empty')).length, 0);
  });

  it('shows nothing of an upload before commit', async () => {
    const storage = await empty();
    const data = pattern(1000, 2);
    const pending = await storage.put('soon.bin', { owner: 'User1', size: data.length });
    assert.equal(await pending.write(chunked(data, 100)), data.length);
    await assertAbsent(storage, 'soon.bin');
    assert.deepEqual(await storage.list(), []);
    await pending.commit(sha256(data));
    assert.equal((await statOf(storage, 'soon.bin'))?.size, data.length);
  });

  it('rejects a wrong checksum with E_CHECKSUM and keeps nothing', async () => {
    const storage = await empty();
    const data = pattern(5000, 3);
    const pending = await storage.put('a.bin', { owner: 'User1', size: data.length });
    await pending.write(chunked(data));
    await assert.rejects(pending.commit(sha256('something else')), fexCode('E_CHECKSUM'));
    await pending.abort(); // safe after a failed commit
    await assertAbsent(storage, 'a.bin');
  });

  it('rejects fewer or more bytes than announced with E_SIZE and keeps nothing', async () => {
    const storage = await empty();
    const data = pattern(5000, 4);
    const short = await storage.put('a.bin', { owner: 'User1', size: data.length + 1 });
    assert.equal(await short.write(chunked(data)), data.length);
    await assert.rejects(short.commit(sha256(data)), fexCode('E_SIZE'));
    await assertAbsent(storage, 'a.bin');
    const long = await storage.put('a.bin', { owner: 'User1', size: 4000 });
    await long.write(chunked(data, 1000));
    await assert.rejects(long.commit(sha256(data.subarray(0, 4000))), fexCode('E_SIZE'));
    await assertAbsent(storage, 'a.bin');
  });

  it('keeps nothing of an aborted upload, and abort may be repeated', async () => {
    const storage = await empty();
    const data = pattern(2000, 6);
    const pending = await storage.put('gone.bin', { owner: 'User1', size: data.length });
    await pending.write(chunked(data));
    await pending.abort();
    await pending.abort();
    await assertAbsent(storage, 'gone.bin');
    // The name is free again, for anybody.
    await store(storage, 'gone.bin', 'User2', 'new');
    assert.equal((await statOf(storage, 'gone.bin'))?.owner, 'User2');
  });

  it('refuses an unsafe name with E_BAD_NAME', async () => {
    const storage = await empty();
    for (const bad of ['../escaped.txt', 'a/b', '.fex', '', '..', 'x\u0000y'])
      await assert.rejects(
        storage.put(bad, { owner: 'User1', size: 1 }),
        fexCode('E_BAD_NAME'),
        JSON.stringify(bad),
      );
    assert.deepEqual(await storage.list(), []);
  });
}
