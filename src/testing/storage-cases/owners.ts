/** The storage contract's cases of replacing a file: by its owner only, atomically, and never onto a clashing name. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  sha256,
  chunked,
  store,
  contents,
  fexCode,
  statOf,
  type SuiteContext,
} from '../storage-helpers.js';

export function ownersCases({ empty }: SuiteContext): void {
  it('lets the owner replace a file atomically', async () => {
    const storage = await empty();
    const first = await store(storage, 'doc.txt', 'User1', 'version one');
    const second = await store(storage, 'doc.txt', 'User1', 'version two, longer');
    assert.equal(second.sha256, sha256('version two, longer'));
    assert.ok(second.time >= first.time);
    assert.deepEqual(await storage.list(), [second]);
    assert.equal((await contents(storage, 'doc.txt')).toString(), 'version two, longer');
  });

  it('keeps the old version when a replacement fails', async () => {
    const storage = await empty();
    const old = await store(storage, 'doc.txt', 'User1', 'the old version');
    const pending = await storage.put('doc.txt', { owner: 'User1', size: 3 });
    await pending.write(chunked(Buffer.from('new')));
    await assert.rejects(pending.commit(sha256('not new')), fexCode('E_CHECKSUM'));
    assert.deepEqual(await statOf(storage, 'doc.txt'), old);
    assert.equal((await contents(storage, 'doc.txt')).toString(), 'the old version');
  });

  it('refuses a replacement by another owner with E_NOT_OWNER', async () => {
    const storage = await empty();
    const original = await store(storage, 'mine.txt', 'Alice', 'alice wrote this');
    await assert.rejects(
      storage.put('mine.txt', { owner: 'Bob', size: 3 }),
      (error: unknown) => fexCode('E_NOT_OWNER')(error) && /Alice/.test(String(error)),
    );
    assert.deepEqual(await statOf(storage, 'mine.txt'), original);
    assert.equal((await contents(storage, 'mine.txt')).toString(), 'alice wrote this');
  });

  it('refuses the second of two concurrent new uploads of one name by different owners', async () => {
    const storage = await empty();
    const alice = await storage.put('race.txt', { owner: 'Alice', size: 1 });
    const bob = await storage.put('race.txt', { owner: 'Bob', size: 1 });
    await alice.write(chunked(Buffer.from('a')));
    await bob.write(chunked(Buffer.from('b')));
    await alice.commit(sha256('a'));
    await assert.rejects(bob.commit(sha256('b')), fexCode('E_NOT_OWNER'));
    assert.equal((await statOf(storage, 'race.txt'))?.owner, 'Alice');
    assert.equal((await contents(storage, 'race.txt')).toString(), 'a');
  });

  it('refuses a name differing only in case or form with E_NAME_CLASH', async () => {
    const storage = await empty();
    await store(storage, 'Report.txt', 'User1', 'r');
    await store(storage, 'file.txt', 'User1', 'f');
    for (const clash of ['report.txt', 'REPORT.TXT', '\ufb01le.txt'])
      await assert.rejects(
        storage.put(clash, { owner: 'User1', size: 1 }),
        fexCode('E_NAME_CLASH'),
        clash,
      );
    assert.deepEqual(
      (await storage.list()).map((f) => f.name),
      ['Report.txt', 'file.txt'],
    );
  });

  it('refuses the second of two concurrent uploads whose names clash', async () => {
    const storage = await empty();
    const upper = await storage.put('A.txt', { owner: 'User1', size: 1 });
    const lower = await storage.put('a.txt', { owner: 'User2', size: 1 });
    await upper.write(chunked(Buffer.from('A')));
    await lower.write(chunked(Buffer.from('a')));
    await upper.commit(sha256('A'));
    await assert.rejects(lower.commit(sha256('a')), fexCode('E_NAME_CLASH'));
    assert.deepEqual(
      (await storage.list()).map((f) => f.name),
      ['A.txt'],
    );
  });
}
