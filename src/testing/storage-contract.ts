/**
 * The storage contract suite: every Storage backend must pass it (exported by `fex/testing`).
 * A backend's test file calls `storageSuite(name, makeStorage)` with a factory that gives a fresh,
 * opened, empty storage and a way to open a second instance over the same data; run it with
 * `node --test`. fex runs it against its local backend and its in-memory reference backend.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { FexError } from '../shared/errors.js';
import type { PutOptions, Storage, StoredFile } from '../server/storage/storage.js';

export interface StorageFixture {
  /** A fresh, opened, empty storage. */
  storage: Storage;
  /** A new instance over the same data, opened, as after a server restart. */
  reopen(): Promise<Storage>;
  /** Removes whatever the fixture created. */
  cleanup?(): Promise<void>;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function* chunked(data: Buffer, size = 64 * 1024): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

/** Deterministic, non-repeating-looking bytes. */
export function pattern(size: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

/** put + write + commit with the right checksum. */
export async function store(
  storage: Storage,
  name: string,
  owner: string,
  data: Buffer | string,
): Promise<StoredFile> {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const pending = await storage.put(name, { owner, size: bytes.length });
  await pending.write(chunked(bytes));
  return pending.commit(sha256(bytes));
}

export async function drain(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

export async function contents(storage: Storage, name: string): Promise<Buffer> {
  return drain((await storage.read(name)).stream);
}

export function fexCode(code: string): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof FexError, `expected a FexError ${code}, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };
}

/** One file's entry, as `list()` has it; undefined when there is none. */
export async function statOf(storage: Storage, name: string): Promise<StoredFile | undefined> {
  return (await storage.list()).find((file) => file.name === name);
}

async function assertAbsent(storage: Storage, name: string): Promise<void> {
  assert.equal(await statOf(storage, name), undefined);
  assert.ok(!(await storage.list()).some((f) => f.name === name), `${name} is listed`);
  await assert.rejects(storage.read(name), fexCode('E_NOT_FOUND'));
}

export function storageSuite(name: string, makeStorage: () => Promise<StorageFixture>): void {
  describe(`Storage contract: ${name}`, () => {
    const fixtures: StorageFixture[] = [];
    const opened: Storage[] = [];

    async function fresh(): Promise<StorageFixture> {
      const fixture = await makeStorage();
      fixtures.push(fixture);
      opened.push(fixture.storage);
      return fixture;
    }

    async function empty(): Promise<Storage> {
      return (await fresh()).storage;
    }

    after(async () => {
      for (const storage of opened) await storage.close();
      for (const fixture of fixtures) await fixture.cleanup?.();
    });

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
      await assert.rejects(
        reopened.put('a.txt', { owner: 'Bob', size: 1 }),
        fexCode('E_NOT_OWNER'),
      );
      await assert.rejects(
        reopened.put('A.TXT', { owner: 'Bob', size: 1 }),
        fexCode('E_NAME_CLASH'),
      );
    });

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
  });
}

/** put with options + write + commit with the right checksum. */
async function storePut(
  storage: Storage,
  name: string,
  options: Omit<PutOptions, 'size'>,
  data: Buffer | string,
): Promise<StoredFile> {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const pending = await storage.put(name, { ...options, size: bytes.length });
  await pending.write(chunked(bytes));
  return pending.commit(sha256(bytes));
}
