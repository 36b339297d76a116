/**
 * WriteBehind on real files: every byte lands in order, with or without the background
 * fdatasync, and a failed write is reported by flush instead of being lost.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { remove } from 'fs-extra/esm';
import { mkdtemp, open, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WriteBehind } from '../../src/shared/write-behind.js';

/** Chunks of uneven sizes adding up to a few MiB, so several batches go down. */
function chunks(): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < 90; i++) out.push(randomBytes(1 + ((i * 7919) % 70_000)));
  return out;
}

describe('WriteBehind', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fex-write-behind-'));
  });
  after(async () => {
    await remove(dir);
  });

  for (const syncEvery of [0, 1, 512 * 1024]) {
    it(`writes every chunk in order (syncEvery ${syncEvery})`, async () => {
      const path = join(dir, `out-${syncEvery}`);
      const file = await open(path, 'w');
      const parts = chunks();
      try {
        const disk = new WriteBehind(file, { syncEvery });
        for (const part of parts) await disk.write(part);
        await disk.flush();
      } finally {
        await file.close();
      }
      assert.deepEqual(await readFile(path), Buffer.concat(parts));
    });
  }

  it('appends after bytes already in the file', async () => {
    const path = join(dir, 'append');
    await writeFile(path, 'held');
    const file = await open(path, 'a');
    try {
      const disk = new WriteBehind(file, { syncEvery: 1 });
      await disk.write(Buffer.from(' and more'));
      await disk.flush();
    } finally {
      await file.close();
    }
    assert.equal(await readFile(path, 'utf8'), 'held and more');
  });

  it('rejects flush when a write fails, and settle still resolves', async () => {
    const path = join(dir, 'read-only');
    await writeFile(path, '');
    // Opened for reading only, so every write fails with EBADF.
    const file = await open(path, 'r');
    try {
      const disk = new WriteBehind(file, { syncEvery: 1 });
      await disk.write(Buffer.alloc(2 * 1024 * 1024));
      await assert.rejects(disk.flush(), { code: 'EBADF' });
      await disk.settle();
    } finally {
      await file.close();
    }
  });

  it('asks onFull for room on ENOSPC, tries again, and fails once none is freed', async () => {
    // /dev/full: every write fails with ENOSPC, a real full device.
    const file = await open('/dev/full', 'w');
    let asked = 0;
    try {
      const disk = new WriteBehind(file, { onFull: async () => ++asked < 3 });
      await disk.write(Buffer.alloc(10));
      await assert.rejects(disk.flush(), { code: 'ENOSPC' });
      assert.equal(asked, 3, 'tried again after each of the two times room was freed');
      const plain = new WriteBehind(file);
      await plain.write(Buffer.alloc(10));
      await assert.rejects(plain.flush(), { code: 'ENOSPC' });
    } finally {
      await file.close();
    }
  });
});
