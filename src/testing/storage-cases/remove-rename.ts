/** The storage contract's cases of removing and renaming: for the owner, readers unaffected, concurrent renames in turn. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
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

export function removeRenameCases({ fresh, empty, opened }: SuiteContext): void {
  it('removes a file for its owner only', async () => {
    const fixture = await fresh();
    const storage = fixture.storage;
    await store(storage, 'keep.txt', 'Alice', 'k');
    await store(storage, 'drop.txt', 'Alice', 'd');
    await assert.rejects(storage.remove('drop.txt', 'Bob'), fexCode('E_NOT_OWNER'));
    assert.equal((await statOf(storage, 'drop.txt'))?.owner, 'Alice');
    await storage.remove('drop.txt', 'Alice');
    await assertAbsent(storage, 'drop.txt');
    await assert.rejects(storage.remove('drop.txt', 'Alice'), fexCode('E_NOT_FOUND'));
    const reopened = await fixture.reopen();
    opened.push(reopened);
    assert.deepEqual(
      (await reopened.list()).map((f) => f.name),
      ['keep.txt'],
    );
  });

  it('removes any file for the operator, and resolves with the file as it was', async () => {
    const storage = await empty();
    const stored = await store(storage, 'theirs.txt', 'Alice', 'a');
    assert.deepEqual(await storage.remove('theirs.txt', undefined), stored);
    await assertAbsent(storage, 'theirs.txt');
    await assert.rejects(storage.remove('theirs.txt', undefined), fexCode('E_NOT_FOUND'));
  });

  it('lets a reader opened before a removal read the old bytes entirely', async () => {
    const storage = await empty();
    const data = pattern(2 * 1024 * 1024, 11);
    await store(storage, 'going.bin', 'User1', data);
    const { stream } = await storage.read('going.bin');
    await storage.remove('going.bin', 'User1');
    await assertAbsent(storage, 'going.bin');
    assert.ok((await drain(stream)).equals(data));
  });

  it('renames a file for its owner, keeping its bytes, owner, time and expiry', async () => {
    const fixture = await fresh();
    const storage = fixture.storage;
    const data = pattern(100_000, 12);
    const stored = await storePut(storage, 'old.bin', { owner: 'Alice', ageMs: 3600_000 }, data);
    const small = await store(storage, 'small.txt', 'Alice', 'tiny');
    const renamed = await storage.rename('old.bin', 'new.bin', 'Alice');
    assert.deepEqual(renamed, { ...stored, name: 'new.bin' });
    assert.equal(typeof renamed.expires, 'number');
    await assertAbsent(storage, 'old.bin');
    assert.deepEqual(await statOf(storage, 'new.bin'), renamed);
    assert.ok((await contents(storage, 'new.bin')).equals(data));
    await storage.rename('small.txt', 'Small.TXT', 'Alice'); // its own key: no clash
    const reopened = await fixture.reopen();
    opened.push(reopened);
    assert.deepEqual(await reopened.list(), [{ ...small, name: 'Small.TXT' }, renamed]);
    assert.equal((await contents(reopened, 'Small.TXT')).toString(), 'tiny');
    // The old name is free again, for anybody.
    await store(reopened, 'old.bin', 'Bob', 'b');
    assert.equal((await statOf(reopened, 'old.bin'))?.owner, 'Bob');
  });

  it('refuses a rename by another owner, of a missing file, or onto a taken name', async () => {
    const storage = await empty();
    await store(storage, 'a.txt', 'Alice', 'a');
    await store(storage, 'b.txt', 'Alice', 'b');
    await store(storage, 'bob.txt', 'Bob', 'bob');
    const refusals: Array<[string, string, string, string]> = [
      ['a.txt', 'c.txt', 'Bob', 'E_NOT_OWNER'],
      ['nothing.txt', 'c.txt', 'Alice', 'E_NOT_FOUND'],
      ['A.TXT', 'c.txt', 'Alice', 'E_NOT_FOUND'],
      ['a.txt', 'b.txt', 'Alice', 'E_NAME_TAKEN'],
      ['a.txt', 'a.txt', 'Alice', 'E_NAME_TAKEN'],
      ['a.txt', 'bob.txt', 'Alice', 'E_NOT_OWNER'],
      ['a.txt', 'B.txt', 'Alice', 'E_NAME_CLASH'],
      ['a.txt', '../c.txt', 'Alice', 'E_BAD_NAME'],
      ['a.txt', '.fex', 'Alice', 'E_BAD_NAME'],
      ['a.txt', '', 'Alice', 'E_BAD_NAME'],
    ];
    for (const [from, to, owner, code] of refusals)
      await assert.rejects(storage.rename(from, to, owner), fexCode(code), `${from} -> ${to}`);
    assert.deepEqual(
      (await storage.list()).map((f) => [f.name, f.owner]),
      [
        ['a.txt', 'Alice'],
        ['b.txt', 'Alice'],
        ['bob.txt', 'Bob'],
      ],
    );
    assert.equal((await contents(storage, 'a.txt')).toString(), 'a');
  });

  it('keeps a reader of the old name reading, and serves the new name at once', async () => {
    const storage = await empty();
    const data = pattern(2 * 1024 * 1024, 13);
    await store(storage, 'before.bin', 'User1', data);
    const { stream } = await storage.read('before.bin');
    await storage.rename('before.bin', 'after.bin', 'User1');
    assert.ok((await drain(stream)).equals(data));
    assert.ok((await contents(storage, 'after.bin')).equals(data));
  });

  it('runs opposite concurrent renames one after the other, never both or neither', async () => {
    const storage = await empty();
    await store(storage, 'x', 'User1', 'x');
    const results = await Promise.allSettled([
      storage.rename('x', 'y', 'User1'),
      storage.rename('y', 'x', 'User1'),
      storage.rename('x', 'y', 'User1'),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'fulfilled'],
    );
    assert.deepEqual(
      (await storage.list()).map((f) => f.name),
      ['y'],
    );
  });
}
