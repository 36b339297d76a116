/**
 * The file index contract suite (exported by `fex/testing`): every FileIndex must pass it; fex
 * runs it against the in-process LocalFileIndex and the shared RedisFileIndex. docs/storage.md.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { FileIndex, IndexedFile, PartialUpload } from '../server/storage/file-index.js';
import { fexCode, sha256 } from './storage-contract.js';

export interface FileIndexFixture {
  /** A fresh, opened, empty index. */
  index: FileIndex;
  /** A new instance over the same state, opened, as after a restart. */
  reopen(): Promise<FileIndex>;
  /** A second instance over the same state used at the same time (a second server), if shared. */
  twin?(): Promise<FileIndex>;
  cleanup?(): Promise<void>;
}

let objects = 0;

/** A record as a commit gives it. */
export function indexed(
  name: string,
  owner: string | null,
  extra: Partial<IndexedFile> = {},
): IndexedFile {
  return {
    name,
    size: name.length,
    owner,
    time: Date.now(),
    sha256: sha256(name),
    object: `objects/${++objects}`,
    ...extra,
  };
}

function partial(id: string, extra: Partial<PartialUpload> = {}): PartialUpload {
  return {
    id,
    owner: 'Ann',
    name: `${id}.bin`,
    size: 20,
    object: `objects/${id}`,
    uploadId: `upload-${id}`,
    parts: [],
    generation: 0,
    updated: Date.now(),
    ...extra,
  };
}

export function fileIndexSuite(name: string, make: () => Promise<FileIndexFixture>): void {
  describe(`FileIndex contract: ${name}`, () => {
    const fixtures: FileIndexFixture[] = [];
    const opened: FileIndex[] = [];
    const fresh = async () => {
      const fixture = await make();
      fixtures.push(fixture);
      opened.push(fixture.index);
      return fixture;
    };
    const keep = (index: FileIndex) => (opened.push(index), index);
    after(async () => {
      for (const index of opened) await index.close();
      for (const fixture of fixtures) await fixture.cleanup?.();
    });
    const names = async (index: FileIndex, options = {}) =>
      (await index.page(options)).map((file) => file.name);

    it('commits, gets, pages in code point order and counts per owner', async () => {
      const { index } = await fresh();
      const now = Date.now();
      const all = ['b2', 'a1', 'b1', 'B0', 'Éclair', '\uff5a', '😀', '~'];
      for (const n of all) await index.commit(indexed(n, n === 'b2' ? 'Bob' : 'Ann'), now);
      await index.commit(indexed('op', null), now);
      assert.deepEqual(await names(index), [
        'B0',
        'a1',
        'b1',
        'b2',
        'op',
        '~',
        'Éclair',
        '\uff5a',
        '😀',
      ]);
      assert.deepEqual(await names(index, { prefix: 'b', limit: 1 }), ['b1']);
      assert.deepEqual(await names(index, { prefix: 'b', after: 'b1' }), ['b2']);
      assert.deepEqual(await names(index, { after: '~', limit: 2 }), ['Éclair', '\uff5a']);
      assert.deepEqual(await names(index, { prefix: '😀' }), ['😀']);
      assert.deepEqual(await names(index, { limit: 0 }), []);
      const counts = await Promise.all([undefined, 'Ann', 'Bob', null].map((o) => index.count(o)));
      assert.deepEqual(counts, [9, 7, 1, 1]);
      const a1 = await index.get('a1');
      assert.equal(a1?.owner, 'Ann');
      assert.equal(await index.get('A1'), undefined);
    });

    it('lets the owner replace, handing back the replaced record', async () => {
      const { index } = await fresh();
      const first = indexed('doc', 'Ann');
      assert.deepEqual(await index.commit(first, Date.now()), {});
      const second = indexed('doc', 'Ann');
      assert.deepEqual(await index.commit(second, Date.now()), { previous: first });
      assert.deepEqual(await index.get('doc'), second);
      assert.equal(await index.count('Ann'), 1);
    });

    it('refuses another owner and a clashing name, before and at commit', async () => {
      const { index } = await fresh();
      const now = Date.now();
      await index.commit(indexed('Report.txt', 'Ann'), now);
      await assert.rejects(index.check('Report.txt', 'Bob', now), fexCode('E_NOT_OWNER'));
      await assert.rejects(index.commit(indexed('Report.txt', 'Bob'), now), fexCode('E_NOT_OWNER'));
      for (const clash of ['report.txt', 'REPORT.TXT'])
        await assert.rejects(index.commit(indexed(clash, 'Ann'), now), fexCode('E_NAME_CLASH'));
      await index.check('Report.txt', 'Ann', now);
      assert.deepEqual(await names(index), ['Report.txt']);
      assert.equal(await index.count(), 1);
    });

    it('frees an expired name for anyone, handing back the expired record', async () => {
      const { index } = await fresh();
      const now = Date.now();
      const old = indexed('free', 'Ann', { expires: now - 1 });
      await index.commit(old, now - 10);
      await index.check('free', 'Bob', now);
      const bob = indexed('free', 'Bob');
      assert.deepEqual(await index.commit(bob, now), { previous: old });
      assert.deepEqual(await Promise.all(['Ann', 'Bob'].map((o) => index.count(o))), [0, 1]);
      // An expired clashing name does not clash.
      await index.commit(indexed('Gone', 'Ann', { expires: now - 1 }), now - 10);
      await index.commit(indexed('gone', 'Bob'), now);
    });

    it('removes for the owner or the operator only', async () => {
      const { index } = await fresh();
      const now = Date.now();
      const file = indexed('x', 'Ann');
      await index.commit(file, now);
      await assert.rejects(index.remove('x', 'Bob', now), fexCode('E_NOT_OWNER'));
      assert.deepEqual(await index.remove('x', 'Ann', now), file);
      await assert.rejects(index.remove('x', 'Ann', now), fexCode('E_NOT_FOUND'));
      await index.commit(indexed('y', 'Ann'), now);
      assert.equal((await index.remove('y', undefined, now)).name, 'y');
      assert.equal(await index.count(), 0);
      assert.equal(await index.count('Ann'), 0);
      // The name's key is free again.
      await index.commit(indexed('Y', 'Bob'), now);
    });

    it('renames with the rules of Storage.rename, keeping expiry', async () => {
      const { index } = await fresh();
      const now = Date.now();
      const a = indexed('a', 'Ann', { expires: now + 60_000 });
      await index.commit(a, now);
      await index.commit(indexed('b', 'Ann'), now);
      await index.commit(indexed('bob', 'Bob'), now);
      const refusals: Array<[string, string, string, string]> = [
        ['a', 'c', 'Bob', 'E_NOT_OWNER'],
        ['none', 'c', 'Ann', 'E_NOT_FOUND'],
        ['a', 'b', 'Ann', 'E_NAME_TAKEN'],
        ['a', 'a', 'Ann', 'E_NAME_TAKEN'],
        ['a', 'bob', 'Ann', 'E_NOT_OWNER'],
        ['a', 'B', 'Ann', 'E_NAME_CLASH'],
      ];
      for (const [from, to, owner, code] of refusals)
        await assert.rejects(index.rename(from, to, owner, now), fexCode(code), `${from}->${to}`);
      const renamed = await index.rename('a', 'A2', 'Ann', now);
      assert.deepEqual(renamed, { file: { ...a, name: 'A2' } });
      assert.equal(await index.get('a'), undefined);
      await index.rename('A2', 'a2', 'Ann', now); // its own key: no clash
      assert.deepEqual(await names(index), ['a2', 'b', 'bob']);
      assert.equal(await index.count('Ann'), 2);
      const { next } = await index.due(now, 10);
      assert.equal(next, a.expires);
      // An expired file at `to` gives way, and is handed back.
      const stale = indexed('late', 'Bob', { expires: now - 1 });
      await index.commit(stale, now - 10);
      assert.deepEqual((await index.rename('b', 'late', 'Ann', now)).previous, stale);
      assert.equal(await index.count('Bob'), 1);
    });

    it('expires what is due, one by one, and says when next', async () => {
      const { index } = await fresh();
      const now = Date.now();
      await index.commit(indexed('due1', 'Ann', { expires: now - 5 }), now - 10);
      await index.commit(indexed('due2', 'Ann', { expires: now }), now - 10);
      await index.commit(indexed('later', 'Ann', { expires: now + 1000 }), now);
      await index.commit(indexed('never', 'Ann'), now);
      const { names: due, next } = await index.due(now, 10);
      assert.deepEqual([...due].sort(), ['due1', 'due2']);
      assert.equal(next, now + 1000);
      assert.equal((await index.expireOne('due1', now))?.name, 'due1');
      assert.equal(await index.expireOne('due1', now), undefined);
      assert.equal(await index.expireOne('later', now), undefined);
      assert.equal((await index.expireOne('due2', now))?.name, 'due2');
      assert.deepEqual((await index.due(now, 10)).names, []);
      assert.deepEqual(await names(index), ['later', 'never']);
      assert.equal(await index.count('Ann'), 2);
    });

    it('keeps partial uploads, lets one taker hold each, and finds stale ones', async () => {
      const { index } = await fresh();
      const p = partial('p1');
      assert.equal(await index.takePartial('p1', Date.now()), undefined);
      assert.equal(await index.savePartial(p), true);
      const parts = [{ number: 1, etag: '"e1"', size: 10, prefixSha256: sha256('x') }];
      assert.equal(await index.savePartial({ ...p, parts }), true);
      const taken = await index.takePartial('p1', Date.now());
      assert.deepEqual(taken?.parts, parts);
      assert.equal(taken?.generation, 1);
      // The earlier holder can no longer record parts, nor drop it.
      assert.equal(await index.savePartial({ ...p, parts: [] }), false);
      assert.equal(await index.dropPartial('p1', 0), false);
      assert.equal(
        await index.savePartial({ ...taken!, parts: [...parts, { ...parts[0]!, number: 2 }] }),
        true,
      );
      assert.equal((await index.takePartial('p1', Date.now()))?.parts.length, 2);
      await index.savePartial(partial('old', { updated: Date.now() - 60_000 }));
      const stale = await index.stalePartials(Date.now() - 30_000);
      assert.deepEqual(
        stale.map((s) => s.id),
        ['old'],
      );
      assert.equal(await index.dropPartial('old', stale[0]!.generation), true);
      const left = await index.stalePartials(Date.now() + 1);
      assert.deepEqual(
        left.map((s) => [s.id, s.generation, s.parts.length]),
        [['p1', 2, 2]],
      );
      // A commit with the partial's id drops it in the same step.
      await index.commit(indexed('p1.bin', 'Ann'), Date.now(), 'p1');
      assert.equal(await index.takePartial('p1', Date.now()), undefined);
    });

    it('keeps everything committed across a reopen', async () => {
      const fixture = await fresh();
      const now = Date.now();
      const a = indexed('a', 'Ann', { expires: now + 60_000 });
      const b = indexed('b', null);
      await fixture.index.commit(a, now);
      await fixture.index.commit(b, now);
      await fixture.index.commit(indexed('c', 'Ann'), now);
      await fixture.index.remove('c', 'Ann', now);
      await fixture.index.rename('a', 'a2', 'Ann', now);
      await fixture.index.savePartial(partial('kept'));
      const reopened = keep(await fixture.reopen());
      assert.deepEqual(await reopened.page({}), [{ ...a, name: 'a2' }, b]);
      assert.equal((await reopened.takePartial('kept', Date.now()))?.uploadId, 'upload-kept');
      assert.equal((await reopened.due(now, 1)).next, a.expires);
      await assert.rejects(reopened.commit(indexed('A2', 'Bob'), now), fexCode('E_NAME_CLASH'));
    });

    it('gives one owner to concurrent first commits of one name', async () => {
      const fixture = await fresh();
      const other = fixture.twin ? keep(await fixture.twin()) : fixture.index;
      const now = Date.now();
      for (let round = 0; round < 20; round++) {
        const results = await Promise.allSettled([
          fixture.index.commit(indexed(`race${round}`, 'Ann'), now),
          other.commit(indexed(`race${round}`, 'Bob'), now),
          other.commit(indexed(`RACE${round}`, 'Cy'), now),
        ]);
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, `round ${round}`);
        for (const r of results)
          if (r.status === 'rejected')
            assert.ok(
              ['E_NOT_OWNER', 'E_NAME_CLASH'].includes((r.reason as { code: string }).code),
            );
      }
      assert.equal(await fixture.index.count(), 20);
    });

    it('hands out as orphans only the objects no file and no upload names', async () => {
      const { index } = await fresh();
      const now = Date.now();
      const kept = indexed('kept', 'Ann');
      const renamed = indexed('before', 'Ann');
      const removed = indexed('removed', 'Ann');
      const replaced = indexed('replaced', 'Ann');
      for (const file of [kept, renamed, removed, replaced]) await index.commit(file, now);
      await index.rename('before', 'after', 'Ann', now);
      await index.remove('removed', 'Ann', now);
      await index.commit(indexed('replaced', 'Ann'), now);
      const upload = partial('up');
      await index.savePartial(upload);
      const stray = 'objects/stray';
      const all = [kept, renamed, removed, replaced].map((f) => f.object);
      const claim = (at: number, retryBefore = at - 1000) =>
        index.claimOrphans([...all, upload.object, stray], at, retryBefore);
      assert.deepEqual(await claim(now), [removed.object, replaced.object, stray]);
      // Handed out once: another sweep soon after leaves them to the first one...
      assert.deepEqual(await claim(now + 1), []);
      // ...and takes them again once that one had its time (its delete failed).
      assert.deepEqual(await claim(now + 2, now + 1), [removed.object, replaced.object, stray]);
      // An orphan is never committed after: the sweep is deleting its bytes.
      await assert.rejects(
        index.commit(indexed('late', 'Ann', { object: stray }), now),
        (error: { code: string; message: string }) =>
          error.code === 'E_INTERNAL' && /removed as an orphan/.test(error.message),
      );
      assert.equal(await index.get('late'), undefined);
      // The upload's object is named until its commit, and the file's from then on.
      await index.commit(indexed('up.bin', 'Ann', { object: upload.object }), now, 'up');
      assert.deepEqual(await claim(now + 3, now + 3), [removed.object, replaced.object, stray]);
      assert.equal((await index.get('up.bin'))?.object, upload.object);
    });

    it('hands each orphan to one of the servers claiming at once', async () => {
      const fixture = await fresh();
      const other = fixture.twin ? keep(await fixture.twin()) : fixture.index;
      const now = Date.now();
      const strays = Array.from({ length: 50 }, (_, i) => `objects/stray-${i}`);
      const [a, b] = await Promise.all([
        fixture.index.claimOrphans(strays, now, now - 1000),
        other.claimOrphans(strays, now, now - 1000),
      ]);
      assert.deepEqual([...a, ...b].sort(), [...strays].sort());
    });
  });
}
