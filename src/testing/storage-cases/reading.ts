/** The storage contract's cases of listing and reading back, readers during a replacement, and a reopen. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  sha256,
  pattern,
  store,
  drain,
  contents,
  fexCode,
  type SuiteContext,
} from '../storage-helpers.js';

export function readingCases({ fresh, empty, opened }: SuiteContext): void {
  it('lists files in code point order', async () => {
    const storage = await empty();
    const expected = [
      '10.txt',
      '9.txt',
      'Alpha',
      '_under',
      'beta',
      'zeta',
      '~tilde',
      'Éclair',
      '\uff5a.txt', // fullwidth z, U+FF5A
      '😀.txt', // U+1F600: after U+FF5A by code point, before it by UTF-16 code unit
    ];
    const shuffled = ['Éclair', '😀.txt', 'beta', '10.txt', '\uff5a.txt', 'Alpha', '~tilde'];
    shuffled.push('9.txt', 'zeta', '_under');
    assert.deepEqual([...shuffled].sort(), [...expected].sort(), 'same names');
    for (const name of shuffled) await store(storage, name, 'User1', name);
    assert.deepEqual(
      (await storage.list()).map((f) => f.name),
      expected,
    );
  });

  it('reads a file back and refuses a name it does not hold with E_NOT_FOUND', async () => {
    const storage = await empty();
    const data = pattern(1024 * 1024 + 17, 7);
    await store(storage, 'big.bin', 'User1', data);
    assert.ok((await contents(storage, 'big.bin')).equals(data));
    await assert.rejects(storage.read('missing.bin'), fexCode('E_NOT_FOUND'));
    await assert.rejects(storage.read('BIG.bin'), fexCode('E_NOT_FOUND'));
  });

  it('lets a reader opened before a replacement read the old bytes entirely', async () => {
    const storage = await empty();
    const old = pattern(2 * 1024 * 1024, 8);
    const replacement = pattern(2 * 1024 * 1024 + 5, 9);
    await store(storage, 'movie.bin', 'User1', old);
    const { file, stream } = await storage.read('movie.bin');
    await store(storage, 'movie.bin', 'User1', replacement);
    assert.equal(file.sha256, sha256(old));
    const got = await drain(stream);
    assert.equal(got.length, old.length);
    assert.ok(got.equals(old), 'the early reader got the old bytes');
    assert.ok((await contents(storage, 'movie.bin')).equals(replacement));
  });

  it('keeps files, owners and checksums across a reopen', async () => {
    const fixture = await fresh();
    const a = await store(fixture.storage, 'a.txt', 'Alice', 'alpha');
    const b = await store(fixture.storage, 'b.bin', 'Bob', pattern(70_000, 10));
    const reopened = await fixture.reopen();
    opened.push(reopened);
    assert.deepEqual(await reopened.list(), [a, b]);
    assert.equal((await contents(reopened, 'a.txt')).toString(), 'alpha');
    await assert.rejects(reopened.put('a.txt', { owner: 'Bob', size: 1 }), fexCode('E_NOT_OWNER'));
    await assert.rejects(reopened.put('A.TXT', { owner: 'Bob', size: 1 }), fexCode('E_NAME_CLASH'));
  });
}
