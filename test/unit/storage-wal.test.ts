/**
 * LocalStorage's write-ahead log for small unresumable stores: the journal line holds the bytes
 * until a checkpoint has flushed the file, so a crash that loses the file's data or its rename is
 * repaired at open(), and a checkpoint leaves the journal without the bytes.
 *
 * A crash is simulated by opening a second LocalStorage on the same folder while the first is
 * still open: the first never checkpoints or compacts, exactly as if it had been killed.
 */
import assert from 'node:assert/strict';
import { lstat, mkdir, readFile, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LocalStorage } from '../../src/server/storage/local-storage.js';
import type { StoredFile } from '../../src/server/storage/storage.js';
import { WAL_MAX_BYTES } from '../../src/server/storage/wal.js';
import { chunked, contents, pattern, sha256, statOf } from '../../src/testing/storage-contract.js';
import { localRoots } from './local-roots.js';

const { newRoot, openAt } = localRoots('fex-wal-');

/** A store as the `store` handler makes it: body with the request, not resumable. */
async function storeSmall(
  storage: LocalStorage,
  name: string,
  owner: string,
  data: Buffer | string,
  resumable = false,
): Promise<StoredFile> {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const pending = await storage.put(name, { owner, size: bytes.length, resumable });
  await pending.write(chunked(bytes, 700));
  return pending.commit(sha256(bytes));
}

interface Line {
  name?: string;
  remove?: string;
  mtimeMs?: number;
  data?: string;
}

async function journalLines(root: string): Promise<Line[]> {
  const text = await readFile(join(root, '.fex', 'journal'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Line);
}

/** The last journal line of each name, as replay sees it. */
async function lastLines(root: string): Promise<Map<string, Line>> {
  const last = new Map<string, Line>();
  for (const line of await journalLines(root)) last.set(line.name ?? line.remove ?? '', line);
  return last;
}

describe('LocalStorage write-ahead log for small stores', () => {
  it('journals the bytes of a small unresumable store, and only of those', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    const small = pattern(1024, 1);
    await storeSmall(storage, 'small.bin', 'Ann', small);
    await storeSmall(storage, 'edge.bin', 'Ann', pattern(WAL_MAX_BYTES, 2));
    await storeSmall(storage, 'big.bin', 'Ann', pattern(WAL_MAX_BYTES + 1, 3));
    await storeSmall(storage, 'resumable.bin', 'Ann', small, true);
    const last = await lastLines(root);
    assert.equal(last.get('small.bin')?.data, small.toString('base64'));
    assert.equal(last.get('small.bin')?.mtimeMs, -1, 'no trustworthy mtime yet');
    assert.equal(last.get('edge.bin')?.data, pattern(WAL_MAX_BYTES, 2).toString('base64'));
    assert.equal(last.get('big.bin')?.data, undefined);
    assert.equal(last.get('resumable.bin')?.data, undefined);
  });

  it('restores a file deleted, truncated or zeroed before a checkpoint, owner kept', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    const files = ['gone.txt', 'short.txt', 'zeroed.txt', 'intact.txt'].map((name, i) => ({
      name,
      data: pattern(1000 + i * 517, 10 + i),
    }));
    const stored = await Promise.all(
      files.map(({ name, data }, i) => storeSmall(storage, name, `User${i}`, data)),
    );
    // What a crash may do to files whose data and rename were never flushed.
    await unlink(join(root, 'gone.txt'));
    await truncate(join(root, 'short.txt'), 100);
    await writeFile(join(root, 'zeroed.txt'), Buffer.alloc(files[2]!.data.length));

    const byName = (a: StoredFile, b: StoredFile) => (a.name < b.name ? -1 : 1);
    const reopened = await openAt(root);
    assert.deepEqual(await reopened.list(), [...stored].sort(byName));
    for (const { name, data } of files) {
      assert.ok((await readFile(join(root, name))).equals(data), `${name} restored`);
      assert.ok((await contents(reopened, name)).equals(data));
    }
    // open() checkpointed, and compacted in the background (done once closed): the journal
    // carries no bytes any more.
    await reopened.close();
    const lines = await journalLines(root);
    assert.equal(lines.length, files.length);
    for (const line of lines) {
      assert.equal(line.data, undefined);
      assert.ok((line.mtimeMs ?? -1) > 0, 'a real mtime');
    }
    // And the next open() finds everything consistent without any bytes.
    assert.deepEqual(await (await openAt(root)).list(), [...stored].sort(byName));
  });

  it('drops the bytes from the journal at a checkpoint, keeping the files intact', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    const data = pattern(4096, 7);
    const stored = await storeSmall(storage, 'a.bin', 'Ann', data);
    const sizeBefore = (await lstat(join(root, '.fex', 'journal'))).size;
    assert.ok(sizeBefore > 4096, 'the bytes are in the journal');

    await storage.checkpoint();
    const lines = await journalLines(root);
    assert.equal(lines.length, 2, 'the record again, without bytes');
    assert.equal(lines[1]?.data, undefined);
    assert.equal(lines[1]?.mtimeMs, (await lstat(join(root, 'a.bin'))).mtimeMs);
    assert.ok((await contents(storage, 'a.bin')).equals(data));
    await storage.checkpoint(); // nothing left to do: no more lines
    assert.equal((await journalLines(root)).length, 2);

    // Checkpointed: a crash now needs no bytes, and the journal has none to give. A file changed
    // behind fex from here on is the operator's doing, re-hashed, owner kept, as for big stores.
    await writeFile(join(root, 'a.bin'), 'changed by the operator');
    const reopened = await openAt(root);
    const file = await statOf(reopened, 'a.bin');
    assert.equal(file?.owner, 'Ann');
    assert.equal(file?.time, stored.time);
    assert.equal(file?.sha256, sha256('changed by the operator'));
  });

  it('checkpoints at close(), so the reopened journal needs no restore', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    const stored = await storeSmall(storage, 'c.txt', 'Cy', 'closing time');
    await storage.close();
    const last = await lastLines(root);
    assert.equal(last.get('c.txt')?.data, undefined);
    assert.ok((last.get('c.txt')?.mtimeMs ?? -1) > 0);
    assert.deepEqual(await (await openAt(root)).list(), [stored]);
  });

  it('lets the second of two small versions win, even over the first one’s bytes on disk', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    await storeSmall(storage, 'v.txt', 'Ann', 'first version');
    const second = await storeSmall(storage, 'v.txt', 'Ann', 'the second version');
    // A lost rename: the older file is what the disk kept.
    await writeFile(join(root, 'v.txt'), 'first version');

    const reopened = await openAt(root);
    assert.deepEqual(await reopened.list(), [second]);
    assert.equal((await contents(reopened, 'v.txt')).toString(), 'the second version');
  });

  it('never resurrects older bytes: a replaced name keeps the newer version, a removed one stays gone', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    await storeSmall(storage, 'removed.txt', 'Ann', 'short lived');
    await storage.remove('removed.txt', 'Ann');
    await storeSmall(storage, 'grown.bin', 'Bob', 'small at first');
    const big = pattern(WAL_MAX_BYTES + 10, 4);
    await storeSmall(storage, 'grown.bin', 'Bob', big);
    await storeSmall(storage, 'gone.txt', 'Cy', 'small');
    await storeSmall(storage, 'gone.txt', 'Cy', 'then resumable', true);
    // The newer version of gone.txt, flushed and journaled without bytes, vanishes behind fex.
    await unlink(join(root, 'gone.txt'));

    const reopened = await openAt(root);
    assert.deepEqual(
      (await reopened.list()).map((f) => f.name),
      ['grown.bin'],
      'removed.txt stays removed, gone.txt is not rebuilt from its older bytes',
    );
    assert.ok((await contents(reopened, 'grown.bin')).equals(big));
    await assert.rejects(lstat(join(root, 'removed.txt')), { code: 'ENOENT' });
  });

  it('survives 500 concurrent small commits and a crash, every file intact', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    const all = Array.from({ length: 500 }, (_, i) => ({
      name: `f${String(i).padStart(3, '0')}.bin`,
      data: pattern(1024 + (i % 13), i),
    }));
    const stored = await Promise.all(
      all.map(({ name, data }, i) => storeSmall(storage, name, `U${i % 5}`, data)),
    );
    assert.deepEqual(await storage.list(), stored);
    // Half the files lose their bytes, as unflushed data may in a crash.
    for (const { name } of all.filter((_, i) => i % 2 === 0)) await truncate(join(root, name), 0);

    const reopened = await openAt(root);
    assert.deepEqual(await reopened.list(), stored);
    for (const { name, data } of all)
      assert.ok((await readFile(join(root, name))).equals(data), name);
  });

  it('keeps the bytes of records not yet checkpointed through a compaction, and only those', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    await storeSmall(storage, 'early.txt', 'Ann', 'checkpointed before the churn');
    await storage.checkpoint();
    // 1100 versions of one name: past the 4 x 2 + 1000 lines that trigger a compaction, short of
    // the records that trigger a checkpoint.
    let last: StoredFile | undefined;
    for (let i = 0; i < 1100; i++) last = await storeSmall(storage, 'churn.txt', 'Bob', `v${i}`);
    const lines = await journalLines(root);
    assert.ok(lines.length < 1100, `compacted: ${lines.length} lines`);
    const byName = await lastLines(root);
    assert.equal(byName.get('early.txt')?.data, undefined);
    assert.equal(byName.get('churn.txt')?.data, Buffer.from('v1099').toString('base64'));
    assert.equal(
      lines.filter((line) => line.data !== undefined && line.name !== 'churn.txt').length,
      0,
    );

    await unlink(join(root, 'churn.txt'));
    const reopened = await openAt(root);
    assert.deepEqual(await statOf(reopened, 'churn.txt'), last);
    assert.equal((await contents(reopened, 'churn.txt')).toString(), 'v1099');
  });

  it('checkpoints in the background once enough records are pending', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    const all = Array.from({ length: 2100 }, (_, i) => `n${i}.txt`);
    await Promise.all(all.map((name) => storeSmall(storage, name, 'Ann', `bytes of ${name}`)));
    // Queued behind the background checkpoint the 2000th record started.
    await storage.checkpoint();
    const byName = await lastLines(root);
    for (const name of all) {
      assert.equal(byName.get(name)?.data, undefined, name);
      assert.ok((byName.get(name)?.mtimeMs ?? -1) > 0, name);
    }
    for (const name of all.slice(0, 50))
      assert.equal((await contents(storage, name)).toString(), `bytes of ${name}`);
  });
});

describe('LocalStorage write-ahead log replay', () => {
  it('ignores bytes that do not match their record, checking the file by content instead', async () => {
    const root = await newRoot();
    await mkdir(join(root, '.fex'));
    await writeFile(join(root, 'kept.txt'), 'what the disk holds');
    const line = (name: string, text: string, data: string) =>
      `${JSON.stringify({
        name,
        size: Buffer.byteLength(text),
        owner: 'Ann',
        time: 5,
        sha256: sha256(text),
        mtimeMs: -1,
        data: Buffer.from(data).toString('base64'),
      })}\n`;
    await writeFile(
      join(root, '.fex', 'journal'),
      line('kept.txt', 'what the record says', 'not the same bytes!!') +
        line('lost.txt', 'no file, bad bytes', 'other bytes, wrong size'),
    );
    const storage = await openAt(root);
    assert.deepEqual(await storage.list(), [
      {
        name: 'kept.txt',
        size: 19,
        owner: 'Ann',
        time: 5,
        sha256: sha256('what the disk holds'),
      },
    ]);
    assert.equal(await readFile(join(root, 'kept.txt'), 'utf8'), 'what the disk holds');
  });
});
