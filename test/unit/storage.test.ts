/**
 * LocalStorage: the shared storage contract, then what only a local directory can show: files
 * under their own names, bookkeeping in .fex, and what an operator or an attacker leaves on disk.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import {
  chunked,
  contents,
  drain,
  fexCode,
  pattern,
  sha256,
  store,
  storageSuite,
  statOf,
} from '../../src/testing/storage-contract.js';
import { localRoots } from './local-roots.js';

const { newRoot, openAt } = localRoots('fex-storage-');

storageSuite('LocalStorage', async () => {
  const root = await newRoot();
  return { storage: await openAt(root), reopen: () => openAt(root) };
});

describe('LocalStorage on disk', () => {
  it('writes an upload aside in .fex/partial and renames it into place on commit', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    const data = pattern(100_000, 1);
    const pending = await storage.put('Hello.txt', { owner: 'User1', size: data.length });
    await pending.write(chunked(data));
    assert.deepEqual(await readdir(root), ['.fex']);
    assert.equal((await readdir(join(root, '.fex', 'partial'))).length, 1);
    await pending.commit(sha256(data));
    assert.deepEqual((await readdir(root)).sort(), ['.fex', 'Hello.txt']);
    assert.ok((await readFile(join(root, 'Hello.txt'))).equals(data));
    assert.deepEqual(await readdir(join(root, '.fex', 'partial')), []);
  });

  it('leaves no file and an empty tmp folder after a bad checksum, a bad size or an abort', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    const data = Buffer.from('some bytes');
    const badSum = await storage.put('a.txt', { owner: 'U', size: data.length });
    await badSum.write(chunked(data));
    await assert.rejects(badSum.commit(sha256('other')), fexCode('E_CHECKSUM'));
    const badSize = await storage.put('a.txt', { owner: 'U', size: data.length + 10 });
    await badSize.write(chunked(data));
    await assert.rejects(badSize.commit(sha256(data)), fexCode('E_SIZE'));
    const aborted = await storage.put('a.txt', { owner: 'U', size: data.length });
    await aborted.write(chunked(data));
    await aborted.abort();
    assert.deepEqual(await readdir(root), ['.fex']);
    assert.deepEqual(await readdir(join(root, '.fex', 'tmp')), []);
    assert.deepEqual(await readdir(join(root, '.fex', 'partial')), []);
  });

  it('never writes outside the root for an unsafe name', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    await assert.rejects(
      storage.put('../outside.txt', { owner: 'U', size: 1 }),
      fexCode('E_BAD_NAME'),
    );
    assert.ok(!(await readdir(dirname(root))).includes('outside.txt'));
    assert.deepEqual(await readdir(join(root, '.fex', 'tmp')), []);
  });

  it('lists a file an operator dropped in, owned by nobody, with its checksum', async () => {
    const root = await newRoot();
    const data = pattern(200_000, 2);
    await writeFile(join(root, 'dropped.bin'), data);
    const storage = await openAt(root);
    const file = await statOf(storage, 'dropped.bin');
    assert.equal(file?.owner, null);
    assert.equal(file?.size, data.length);
    assert.equal(file?.sha256, sha256(data));
    assert.ok((await contents(storage, 'dropped.bin')).equals(data));
    await assert.rejects(
      storage.put('dropped.bin', { owner: 'U', size: 1 }),
      fexCode('E_NOT_OWNER'),
    );
  });

  it('re-hashes a stored file an operator changed, keeping its owner', async () => {
    const root = await newRoot();
    await store(await openAt(root), 'notes.txt', 'Alice', 'first');
    await writeFile(join(root, 'notes.txt'), 'changed by the operator');
    const file = await statOf(await openAt(root), 'notes.txt');
    assert.equal(file?.owner, 'Alice');
    assert.equal(file?.sha256, sha256('changed by the operator'));
    assert.equal(file?.size, 'changed by the operator'.length);
  });

  it('does not list symlinks, folders, unsafe names or its own .fex folder', async () => {
    const root = await newRoot();
    const outside = join(await newRoot(), 'secret.txt');
    await writeFile(outside, 'secret');
    await symlink(outside, join(root, 'link.txt'));
    await mkdir(join(root, 'folder'));
    await writeFile(join(root, '-rf'), 'x');
    await writeFile(join(root, 'bad\nname'), 'x');
    await writeFile(join(root, 'ok.txt'), 'fine');
    const storage = await openAt(root);
    assert.deepEqual(
      (await storage.list()).map((f) => f.name),
      ['ok.txt'],
    );
    await assert.rejects(storage.read('link.txt'), fexCode('E_NOT_FOUND'));
  });

  it('does not follow a symlink planted in place of a stored file after start-up', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    await store(storage, 'victim.txt', 'Alice', 'secret!');
    const outside = join(await newRoot(), 'planted.txt');
    await writeFile(outside, 'not-ours');
    await rm(join(root, 'victim.txt'));
    await symlink(outside, join(root, 'victim.tmp'));
    await rename(join(root, 'victim.tmp'), join(root, 'victim.txt'));
    await assert.rejects(storage.read('victim.txt'), fexCode('E_NOT_FOUND'));
  });

  it('removes stale uploads from .fex/tmp on open', async () => {
    const root = await newRoot();
    await mkdir(join(root, '.fex', 'tmp'), { recursive: true });
    await writeFile(join(root, '.fex', 'tmp', 'abc.part'), 'half an upload');
    await writeFile(join(root, '.fex', 'tmp', 'def.part'), '');
    const storage = await openAt(root);
    assert.deepEqual(await readdir(join(root, '.fex', 'tmp')), []);
    assert.deepEqual(await storage.list(), []);
  });

  it('keeps the first of two clashing names committed at the same moment', async () => {
    const storage = await openAt(await newRoot());
    const data = Buffer.from('case');
    const both = await Promise.all(
      ['Clash.txt', 'clash.txt'].map(async (name) => {
        const pending = await storage.put(name, { owner: 'Ann', size: data.length });
        await pending.write(chunked(data));
        return pending;
      }),
    );
    const [first, second] = both.map((pending) => pending.commit(sha256(data)));
    assert.equal((await first!).name, 'Clash.txt');
    await assert.rejects(second!, fexCode('E_NAME_CLASH'));
    assert.deepEqual(
      (await storage.list()).map((f) => f.name),
      ['Clash.txt'],
    );
  });

  it('removes the file from disk on remove()', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    await store(storage, 'bye.txt', 'Alice', 'bye');
    await storage.remove('bye.txt', 'Alice');
    assert.deepEqual(await readdir(root), ['.fex']);
  });

  it('reads a small file with one buffer of its size, and a resumed one from where it starts', async () => {
    const storage = await openAt(await newRoot());
    const data = pattern(65_536, 3);
    await store(storage, 'small.bin', 'Ann', data);
    await store(storage, 'empty.bin', 'Ann', '');
    // Node's file streams size each read's buffer by what is left before `end`: without it every
    // read took a fresh 1 MiB, and one more read found the end (two for a 64 KiB file).
    const sizes: number[] = [];
    const allocUnsafeSlow = Buffer.allocUnsafeSlow;
    Buffer.allocUnsafeSlow = (size: number) => {
      sizes.push(size);
      return allocUnsafeSlow(size);
    };
    try {
      assert.ok((await contents(storage, 'small.bin')).equals(data));
      assert.deepEqual(sizes, [65_536]);
      sizes.length = 0;
      assert.ok(
        (await drain((await storage.read('small.bin', 65_000)).stream)).equals(
          data.subarray(65_000),
        ),
      );
      assert.deepEqual(sizes, [536]);
      sizes.length = 0;
      assert.equal((await drain((await storage.read('small.bin', 65_536)).stream)).length, 0);
      assert.equal((await contents(storage, 'empty.bin')).length, 0);
      assert.ok(
        sizes.every((size) => size <= 1),
        `${sizes.join(', ')}`,
      );
    } finally {
      Buffer.allocUnsafeSlow = allocUnsafeSlow;
    }
  });
});
