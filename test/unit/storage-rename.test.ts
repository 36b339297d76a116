/**
 * LocalStorage's renames across a crash: the journal line decides a rename, so a crash between
 * the line and the file's own rename is finished at open(), and a rename undone after a failed
 * file rename stays undone. The real server killed with -9 mid-rename is in
 * test/integration/rename-crash.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFile, copyFile, lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { StoredFile } from '../../src/server/storage/storage.js';
import { contents, fexCode, pattern, store } from '../../src/testing/storage-contract.js';
import { localRoots } from './local-roots.js';

const { newRoot, openAt } = localRoots('fex-rename-');

const journalOf = (root: string) => join(root, '.fex', 'journal');
const onDisk = async (root: string) => (await readdir(root)).filter((n) => n !== '.fex').sort();

/** The line a rename of `file` to `to` appends, written as if the server then died. */
async function renameLine(root: string, file: StoredFile, to: string): Promise<void> {
  const { mtimeMs } = await lstat(join(root, file.name));
  const line = { ...file, name: to, mtimeMs, from: file.name };
  await appendFile(journalOf(root), `${JSON.stringify(line)}\n`);
}

describe('LocalStorage renames across a crash', () => {
  it('finishes at open a rename whose line was flushed before the file moved', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    const data = pattern(300_000, 1);
    const big = await store(storage, 'big.bin', 'Ann', data);
    const other = await store(storage, 'other.txt', 'Bob', 'other');
    await storage.close();
    await renameLine(root, big, 'moved.bin');

    const reopened = await openAt(root);
    assert.deepEqual(await reopened.list(), [{ ...big, name: 'moved.bin' }, other]);
    assert.deepEqual(await onDisk(root), ['moved.bin', 'other.txt']);
    assert.ok((await contents(reopened, 'moved.bin')).equals(data));
    await reopened.close();
    // The compacted journal holds the record alone: a second open changes nothing.
    const text = await readFile(journalOf(root), 'utf8');
    assert.ok(!text.includes('"from"'), text);
    const again = await openAt(root);
    assert.deepEqual(await again.list(), [{ ...big, name: 'moved.bin' }, other]);
  });

  it('finishes a rename of a small store whose bytes only the journal held', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    // Stored with its body in the request, as a client's small store: the WAL path.
    const pending = await storage.put('s.txt', { owner: 'Ann', size: 5, resumable: false });
    await pending.write(
      (async function* () {
        yield Buffer.from('small');
      })(),
    );
    await pending.commit(createHash('sha256').update('small').digest('hex'));
    await storage.rename('s.txt', 't.txt', 'Ann');
    // No close(): as after kill -9, nothing checkpointed.
    const reopened = await openAt(root);
    assert.deepEqual(
      (await reopened.list()).map((f) => [f.name, f.owner]),
      [['t.txt', 'Ann']],
    );
    assert.deepEqual(await onDisk(root), ['t.txt']);
    assert.equal((await contents(reopened, 't.txt')).toString(), 'small');
  });

  it('keeps the old name when the new name is already a file on disk', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    const file = await store(storage, 'a.txt', 'Ann', 'a');
    await storage.close();
    await renameLine(root, file, 'b.txt');
    // The file moved and then an operator put a copy back under the old name: nothing is moved
    // over anything; the old name is the operator's file now.
    await copyFile(join(root, 'a.txt'), join(root, 'b.txt'));
    const reopened = await openAt(root);
    assert.deepEqual(
      (await reopened.list()).map((f) => [f.name, f.owner]),
      [
        ['a.txt', null],
        ['b.txt', 'Ann'],
      ],
    );
  });

  it('refuses to rename onto a file the server does not list', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    await store(storage, 'a.txt', 'Ann', 'a');
    // Put there behind the server's back while it runs: never overwritten.
    await writeFile(join(root, 'dropped.txt'), 'the operator’s');
    await mkdir(join(root, 'folder'));
    for (const to of ['dropped.txt', 'folder'])
      await assert.rejects(storage.rename('a.txt', to, 'Ann'), fexCode('E_NAME_TAKEN'), to);
    assert.equal(await readFile(join(root, 'dropped.txt'), 'utf8'), 'the operator’s');
    assert.equal((await contents(storage, 'a.txt')).toString(), 'a');
  });

  it('stays undone when a line undid it', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    const file = await store(storage, 'a.txt', 'Ann', 'a');
    await storage.close();
    await renameLine(root, file, 'b.txt');
    // What rename() appends when the file's own rename fails: the reverse line.
    const { mtimeMs } = await lstat(join(root, 'a.txt'));
    await appendFile(journalOf(root), `${JSON.stringify({ ...file, mtimeMs, from: 'b.txt' })}\n`);
    const reopened = await openAt(root);
    assert.deepEqual(await reopened.list(), [file]);
    assert.deepEqual(await onDisk(root), ['a.txt']);
  });
});
