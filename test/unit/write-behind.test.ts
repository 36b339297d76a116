/**
 * WriteBehind on real files: every byte lands in order, with or without the background
 * fdatasync, and a failed write is reported by flush instead of being lost. A large transfer
 * told to it is written around the page cache, seen in the process's own descriptors.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { remove } from 'fs-extra/esm';
import { mkdtemp, open, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DIRECT_MIN_BYTES, POOL_BLOCKS } from '../../src/shared/direct-writes.js';
import { WriteBehind } from '../../src/shared/write-behind.js';

const MiB = 1024 * 1024;

/** How many of this process's descriptors of `path` write around the page cache (O_DIRECT). */
async function directDescriptors(path: string): Promise<number> {
  let count = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target !== path) continue;
    const info = await readFile(`/proc/self/fdinfo/${fd}`, 'latin1').catch(() => '');
    const flags = Number.parseInt(/^flags:\s+([0-7]+)$/m.exec(info)?.[1] ?? '0', 8);
    if (flags & constants.O_DIRECT) count++;
  }
  return count;
}

/** Writes `parts` through a writer told of a transfer of `bytes` from `position`. */
async function writeExpecting(
  path: string,
  flags: string,
  parts: Buffer[],
  expect: { position: number; bytes: number },
): Promise<{ directWhileWriting: number; directAfter: number }> {
  const file = await open(path, flags);
  try {
    const disk = new WriteBehind(file, { syncEvery: 4 * MiB, expect });
    await disk.write(parts[0]!);
    const directWhileWriting = await directDescriptors(path);
    for (const part of parts.slice(1)) await disk.write(part);
    await disk.flush();
    return { directWhileWriting, directAfter: await directDescriptors(path) };
  } finally {
    await file.close();
  }
}

/** `total` bytes in chunks of uneven sizes, as a socket hands them over. */
function unevenChunks(total: number): Buffer[] {
  const out: Buffer[] = [];
  for (let left = total, i = 0; left > 0; i++) {
    const size = Math.min(left, 1 + ((i * 7919) % 300_000));
    out.push(randomBytes(size));
    left -= size;
  }
  return out;
}

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

  describe('around the page cache', async () => {
    // A file system that refuses O_DIRECT (tmpfs before Linux 6.6) keeps every writer on the
    // cache, which the tests above cover; CI's has it, and must.
    const probe = join(tmpdir(), `fex-direct-probe-${process.pid}`);
    const refused = await open(probe, constants.O_CREAT | constants.O_WRONLY | constants.O_DIRECT)
      .then((file) => file.close())
      .then(
        () => false,
        () => true,
      )
      .finally(() => remove(probe));
    const skip = refused && !process.env.CI ? `${tmpdir()} refuses O_DIRECT` : false;
    it(
      'writes a large transfer directly, every byte in order, the tail through the cache',
      { skip },
      async () => {
        const path = join(dir, 'direct');
        const parts = unevenChunks(DIRECT_MIN_BYTES + 12_345);
        const seen = await writeExpecting(path, 'wx', parts, {
          position: 0,
          bytes: DIRECT_MIN_BYTES + 12_345,
        });
        assert.deepEqual(seen, { directWhileWriting: 1, directAfter: 0 });
        assert.ok((await readFile(path)).equals(Buffer.concat(parts)));
      },
    );

    it(
      'appends after an aligned length already held, on a file opened for appending',
      { skip },
      async () => {
        const path = join(dir, 'direct-append');
        const held = randomBytes(8192);
        await writeFile(path, held);
        const parts = unevenChunks(3 * MiB + 7);
        const seen = await writeExpecting(path, 'a', parts, {
          position: held.length,
          bytes: DIRECT_MIN_BYTES,
        });
        assert.equal(seen.directWhileWriting, 1);
        assert.ok((await readFile(path)).equals(Buffer.concat([held, ...parts])));
      },
    );

    it('stays on the cache for a small transfer or an unaligned length held', async () => {
      const small = join(dir, 'small');
      const parts = unevenChunks(2 * MiB);
      const seenSmall = await writeExpecting(small, 'wx', parts, {
        position: 0,
        bytes: DIRECT_MIN_BYTES - 1,
      });
      assert.equal(seenSmall.directWhileWriting, 0);
      assert.ok((await readFile(small)).equals(Buffer.concat(parts)));

      const unaligned = join(dir, 'unaligned');
      await writeFile(unaligned, 'held');
      const seen = await writeExpecting(unaligned, 'a', parts, {
        position: 4,
        bytes: DIRECT_MIN_BYTES,
      });
      assert.equal(seen.directWhileWriting, 0);
      assert.ok((await readFile(unaligned)).equals(Buffer.concat([Buffer.from('held'), ...parts])));
    });

    it('never gains a writer for a descriptor opened for reading only', async () => {
      const path = join(dir, 'direct-read-only');
      await writeFile(path, '');
      const file = await open(path, 'r');
      try {
        const disk = new WriteBehind(file, { expect: { position: 0, bytes: DIRECT_MIN_BYTES } });
        await disk.write(Buffer.alloc(2 * MiB));
        assert.equal(await directDescriptors(path), 0);
        await assert.rejects(disk.flush(), { code: 'EBADF' });
        await disk.settle();
      } finally {
        await file.close();
      }
      assert.equal((await readFile(path)).length, 0);
    });

    it(
      'lets writers beyond the staging blocks use the cache, and frees the blocks on flush',
      { skip },
      async () => {
        const writers = POOL_BLOCKS / 2 + 1;
        const round = async (tag: string) => {
          const paths = Array.from({ length: writers }, (_, i) => join(dir, `pool-${tag}-${i}`));
          const files = await Promise.all(paths.map((path) => open(path, 'wx')));
          const data = paths.map(() => randomBytes(MiB + 100));
          try {
            const disks = files.map(
              (file) => new WriteBehind(file, { expect: { position: 0, bytes: DIRECT_MIN_BYTES } }),
            );
            for (const [i, disk] of disks.entries()) await disk.write(data[i]!);
            const direct = await Promise.all(paths.map(directDescriptors));
            await Promise.all(disks.map((disk) => disk.flush()));
            return direct;
          } finally {
            await Promise.all(files.map((file) => file.close()));
            for (const [i, path] of paths.entries())
              assert.ok((await readFile(path)).equals(data[i]!), path);
          }
        };
        const first = await round('a');
        assert.deepEqual(first, [...Array<number>(writers - 1).fill(1), 0]);
        assert.deepEqual(await round('b'), first, 'the blocks came back');
      },
    );
  });
});
