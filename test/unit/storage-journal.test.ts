/**
 * LocalStorage's metadata journal (.fex/journal): replayed at open, robust to a torn last line and
 * to a crash between a record's append and its file's rename, migrated from the old .fex/meta
 * folder, compacted, and group-committed under many concurrent commits.
 */
import assert from 'node:assert/strict';
import { appendFile, lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { StoredFile } from '../../src/server/storage/storage.js';
import { chunked, contents, sha256, store, statOf } from '../../src/testing/storage-contract.js';
import { localRoots } from './local-roots.js';

const { newRoot, openAt } = localRoots('fex-journal-');

const journalOf = (root: string) => join(root, '.fex', 'journal');

async function journalLines(root: string): Promise<unknown[]> {
  const text = await readFile(journalOf(root), 'utf8');
  assert.ok(text === '' || text.endsWith('\n'), 'the journal ends with a whole line');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown);
}

/** A journal line as LocalStorage writes it, for the file at `path` as it is on disk now. */
async function recordLine(path: string, record: StoredFile): Promise<string> {
  const { mtimeMs } = await lstat(path);
  return `${JSON.stringify({ ...record, mtimeMs })}\n`;
}

const names = (files: StoredFile[]) => files.map((f) => f.name);

describe('LocalStorage metadata journal', () => {
  it('replays records, replacements and removals after a reopen', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    const a = await store(storage, 'a.txt', 'Ann', 'alpha');
    await store(storage, 'b.txt', 'Bob', 'beta');
    await store(storage, 'c.txt', 'Cy', 'gamma');
    const b2 = await store(storage, 'b.txt', 'Bob', 'beta, second version');
    await storage.remove('c.txt', 'Cy');
    await storage.close();
    assert.deepEqual(
      (await journalLines(root)).map((line) => (line as { name?: string }).name ?? line),
      ['a.txt', 'b.txt', 'c.txt', 'b.txt', { remove: 'c.txt' }],
    );

    const reopened = await openAt(root);
    assert.deepEqual(await reopened.list(), [a, b2]);
    assert.equal((await contents(reopened, 'b.txt')).toString(), 'beta, second version');
    // Compacted after open, in the background (done once closed): one line per live record.
    await reopened.close();
    assert.deepEqual(names((await journalLines(root)) as StoredFile[]), ['a.txt', 'b.txt']);
  });

  it('forgets a record after its removal line, even when a file of that name is on disk', async () => {
    const root = await newRoot();
    await writeFile(join(root, 'kept.txt'), 'operator copy');
    await mkdir(join(root, '.fex'));
    const record = { name: 'kept.txt', size: 13, owner: 'Ann', time: 1, sha256: sha256('x') };
    await writeFile(
      journalOf(root),
      (await recordLine(join(root, 'kept.txt'), record)) + '{"remove":"kept.txt"}\n',
    );
    const file = await statOf(await openAt(root), 'kept.txt');
    assert.equal(file?.owner, null, 'listed as the operator’s file, not Ann’s');
    assert.equal(file?.sha256, sha256('operator copy'));
  });

  it('ignores a torn last line, and appends cleanly after it', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    const a = await store(storage, 'a.txt', 'Ann', 'alpha');
    await storage.close();
    await appendFile(journalOf(root), '{"name":"a.txt","size":5,"owner":"Mallory","ti');

    const reopened = await openAt(root);
    assert.deepEqual(await reopened.list(), [a]);
    const b = await store(reopened, 'b.txt', 'Bob', 'beta');
    await reopened.close();
    const again = await openAt(root);
    assert.deepEqual(await again.list(), [a, b]);
  });

  it('keeps the owner of a file whose new version was journaled but never renamed', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    const old = await store(storage, 'doc.txt', 'Ann', 'old version');
    await storage.close();
    // A crash after the journal append, before the rename: a record for bytes never in place.
    const unrenamed = {
      name: 'doc.txt',
      size: 11,
      owner: 'Ann',
      time: old.time + 5,
      sha256: sha256('new version'),
      mtimeMs: Date.now() + 60_000,
    };
    const ghost = { ...unrenamed, name: 'ghost.txt', owner: 'Bob' };
    await appendFile(journalOf(root), `${JSON.stringify(unrenamed)}\n${JSON.stringify(ghost)}\n`);

    const reopened = await openAt(root);
    assert.deepEqual(names(await reopened.list()), ['doc.txt']);
    const doc = await statOf(reopened, 'doc.txt');
    assert.equal(doc?.owner, 'Ann');
    assert.equal(doc?.sha256, sha256('old version'), 're-hashed from the bytes on disk');
    assert.equal((await contents(reopened, 'doc.txt')).toString(), 'old version');
  });

  it('makes 200 concurrent commits of distinct names visible, and all there after a reopen', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    const all = Array.from({ length: 200 }, (_, i) => `f${String(i).padStart(3, '0')}.txt`);
    const stored = await Promise.all(
      all.map((name, i) => store(storage, name, `U${i % 7}`, `content of ${name}`)),
    );
    assert.deepEqual(await storage.list(), stored);
    await storage.close();
    const reopened = await openAt(root);
    assert.deepEqual(await reopened.list(), stored);
    for (const name of all)
      assert.equal((await contents(reopened, name)).toString(), `content of ${name}`);
  });

  it('lets close() wait for commits under way', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    const pending = await Promise.all(
      ['x.txt', 'y.txt', 'z.txt'].map(async (name) => {
        const put = await storage.put(name, { owner: 'Ann', size: name.length });
        await put.write(chunked(Buffer.from(name)));
        return put;
      }),
    );
    const commits = pending.map((put, i) => put.commit(sha256(['x.txt', 'y.txt', 'z.txt'][i]!)));
    await storage.close();
    await Promise.all(commits);
    assert.deepEqual(names(await (await openAt(root)).list()), ['x.txt', 'y.txt', 'z.txt']);
  });

  it('compacts while running, losing no concurrent append, and shrinks the file', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    const writers = 100;
    const rounds = 16; // 1600 lines: past the 4 x 100 + 1000 that triggers a compaction
    const latest: StoredFile[] = [];
    let journaled = 0;
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let r = 0; r < rounds; r++) {
          const stored = await store(storage, `w${w}.txt`, `U${w}`, `writer ${w} round ${r}`);
          journaled += Buffer.byteLength(JSON.stringify(stored)) + 40;
          latest[w] = stored;
        }
      }),
    );
    const expected = [...latest].sort((a, b) => a.name.localeCompare(b.name, 'en'));
    const byName = new Map(expected.map((f) => [f.name, f]));
    const lines = (await journalLines(root)) as StoredFile[];
    assert.ok(lines.length < writers * rounds, `not compacted: ${lines.length} lines`);
    assert.ok((await lstat(journalOf(root))).size < journaled / 2, 'the file shrank');
    // The last line of each name is its latest version.
    const last = new Map(lines.map((line) => [line.name, line]));
    for (const [name, file] of byName) assert.equal(last.get(name)?.sha256, file.sha256, name);

    await storage.close();
    const reopened = await openAt(root);
    const listed = await reopened.list();
    assert.deepEqual(names(listed).sort(), names(expected).sort());
    for (const file of listed) assert.deepEqual(file, byName.get(file.name));
    await reopened.close();
    assert.equal((await journalLines(root)).length, writers);
  });
});

describe('LocalStorage put with resumable: false', () => {
  it('writes a fresh tmp file at offset 0, ignoring held bytes, and discards it on suspend', async () => {
    const root = await newRoot();
    const storage = await openAt(root);
    const data = Buffer.from('0123456789');
    const held = await storage.put('r.bin', { owner: 'Ann', size: data.length });
    await held.write(chunked(data.subarray(0, 4)));
    await held.suspend();

    const fresh = await storage.put('r.bin', { owner: 'Ann', size: data.length, resumable: false });
    assert.equal(fresh.offset, 0);
    assert.equal(fresh.prefixSha256, undefined);
    // A small unresumable put holds its bytes in memory and touches the disk only at commit.
    assert.deepEqual(await readdir(join(root, '.fex', 'tmp')), []);
    await fresh.write(chunked(data.subarray(0, 6)));
    await fresh.suspend();
    assert.deepEqual(await readdir(join(root, '.fex', 'tmp')), [], 'discarded like abort()');
    assert.equal((await readdir(join(root, '.fex', 'partial'))).length, 1, 'held bytes kept');

    const whole = await storage.put('r.bin', { owner: 'Ann', size: data.length, resumable: false });
    await whole.write(chunked(data));
    assert.equal((await whole.commit(sha256(data))).size, data.length);
    assert.deepEqual(await readdir(join(root, '.fex', 'tmp')), []);
    assert.ok((await contents(storage, 'r.bin')).equals(data));
  });
});
