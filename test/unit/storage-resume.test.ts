/**
 * Resumable uploads in the local backend: a suspended upload is offered again to the same owner
 * for the same name and size, with the checksum of what it holds; nobody else sees it, and it is
 * swept when it grows stale.
 */
import assert from 'node:assert/strict';
import { readdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { LocalStorage } from '../../src/server/storage/local-storage.js';
import { localRoots } from './local-roots.js';
import { chunked, pattern, sha256, statOf } from '../../src/testing/storage-contract.js';

const { newRoot, openAt } = localRoots('fex-resume-');

/** The offset a new upload of `name` would start from; the upload is then abandoned. */
async function offsetOffered(
  storage: LocalStorage,
  name: string,
  owner: string,
  size: number,
): Promise<number> {
  const put = await storage.put(name, { owner, size });
  await put.abort();
  return put.offset;
}

describe('LocalStorage resume', () => {
  const data = pattern(300_000, 3);
  const half = data.subarray(0, 120_000);

  it('offers a suspended upload again, with the checksum of the bytes held', async () => {
    const storage = await openAt(await newRoot());
    const first = await storage.put('Big.bin', { owner: 'Ann', size: data.length });
    assert.equal(first.offset, 0);
    await first.write(chunked(half));
    await first.suspend();
    assert.equal(await statOf(storage, 'Big.bin'), undefined, 'nothing visible');

    const second = await storage.put('Big.bin', { owner: 'Ann', size: data.length });
    assert.equal(second.offset, half.length);
    assert.equal(second.prefixSha256, sha256(half));
    await second.write(chunked(data.subarray(half.length)));
    const stored = await second.commit(sha256(data));
    assert.equal(stored.sha256, sha256(data));
  });

  it('does not offer it to another owner, another size, or a concurrent upload', async () => {
    const storage = await openAt(await newRoot());
    const first = await storage.put('X.bin', { owner: 'Ann', size: data.length });
    await first.write(chunked(half));
    await first.suspend();
    assert.equal(await offsetOffered(storage, 'X.bin', 'Bob', data.length), 0);
    assert.equal(await offsetOffered(storage, 'X.bin', 'Ann', data.length + 1), 0);
    const resumed = await storage.put('X.bin', { owner: 'Ann', size: data.length });
    assert.equal(resumed.offset, half.length);
    const concurrent = await storage.put('X.bin', { owner: 'Ann', size: data.length });
    assert.equal(concurrent.offset, 0, 'a second upload at once does not share the aside file');
    await concurrent.abort();
    await resumed.abort();
  });

  it('starts again from 0 on restart, and still verifies the whole file', async () => {
    const storage = await openAt(await newRoot());
    const first = await storage.put('R.bin', { owner: 'Ann', size: data.length });
    await first.write(chunked(pattern(50_000, 9)));
    await first.suspend();
    const second = await storage.put('R.bin', { owner: 'Ann', size: data.length });
    assert.equal(second.offset, 50_000);
    await second.restart();
    await second.write(chunked(data));
    assert.equal((await second.commit(sha256(data))).size, data.length);
  });

  it('keeps nothing of a resumed upload whose whole checksum fails', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    const first = await storage.put('B.bin', { owner: 'Ann', size: data.length });
    await first.write(chunked(pattern(120_000, 7)));
    await first.suspend();
    const second = await storage.put('B.bin', { owner: 'Ann', size: data.length });
    await second.write(chunked(data.subarray(120_000)));
    await assert.rejects(second.commit(sha256(data)), { code: 'E_CHECKSUM' });
    assert.deepEqual(await readdir(join(root, '.fex', 'partial')), []);
    assert.equal(await offsetOffered(storage, 'B.bin', 'Ann', data.length), 0);
  });

  it('sweeps interrupted uploads older than the time they are kept', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    const first = await storage.put('S.bin', { owner: 'Ann', size: data.length });
    await first.write(chunked(half));
    await first.suspend();
    const partial = join(root, '.fex', 'partial');
    const [file] = await readdir(partial);
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(join(partial, file!), old, old);
    await storage.close();
    const reopened = await openAt(root, { partialTtlMs: 60 * 60 * 1000 });
    assert.deepEqual(await readdir(partial), []);
    assert.equal(await offsetOffered(reopened, 'S.bin', 'Ann', data.length), 0);
  });
});
