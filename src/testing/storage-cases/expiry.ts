/** The storage contract's cases of expiry: hidden once due, removed by expire(), and free to store again. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  store,
  storePut,
  contents,
  fexCode,
  assertAbsent,
  type SuiteContext,
} from '../storage-helpers.js';

export function expiryCases({ fresh, empty, opened }: SuiteContext): void {
  it('hides a file whose expiry time has come, and expire() removes it', async () => {
    const fixture = await fresh();
    const storage = fixture.storage;
    const now = Date.now();
    const kept = await store(storage, 'kept.txt', 'User1', 'kept');
    const later = await storePut(storage, 'later.txt', { owner: 'User1', ageMs: 3600_000 }, 'l');
    assert.ok(later.expires !== undefined && later.expires >= now + 3600_000);
    const gone = await storePut(storage, 'gone.txt', { owner: 'User1', ageMs: 0 }, 'gone');
    // Its time has come: nowhere to be seen, and its name is free, even before a sweep.
    await assertAbsent(storage, 'gone.txt');
    await assert.rejects(storage.remove('gone.txt', 'User1'), fexCode('E_NOT_FOUND'));
    await assert.rejects(storage.rename('gone.txt', 'g2', 'User1'), fexCode('E_NOT_FOUND'));
    const first = await storage.expire(Date.now());
    assert.deepEqual(first, { expired: [gone], next: later.expires });
    assert.deepEqual(await storage.expire(Date.now()), { expired: [], next: later.expires });
    assert.deepEqual(await storage.expire(later.expires as number), {
      expired: [later],
      next: undefined,
    });
    assert.deepEqual(await storage.list(), [kept]);
    const reopened = await fixture.reopen();
    opened.push(reopened);
    assert.deepEqual(await reopened.list(), [kept]);
  });

  it('lets anyone store a name whose file expired, replacing it', async () => {
    const storage = await empty();
    await storePut(storage, 'free.txt', { owner: 'Alice', ageMs: 0 }, 'old');
    const bob = await store(storage, 'free.txt', 'Bob', 'new');
    assert.deepEqual(await storage.list(), [bob]);
    assert.deepEqual((await storage.expire(Date.now())).expired, []);
    assert.equal((await contents(storage, 'free.txt')).toString(), 'new');
  });
}
