/**
 * The running hash of a transfer on real files: a large file is hashed on the hashing thread from
 * its descriptor as bytes land (the same digest as hashing it in one go), a small one inline from
 * the chunks that pass, and a file that ends early fails the digest instead of hanging.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { remove } from 'fs-extra/esm';
import { mkdtemp, open, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  hashOffThread,
  OFF_THREAD_MIN_BYTES,
  runningHash,
  THREAD_MIN_FREE_CORES,
} from '../../src/shared/file-hash.js';
import { freeCores } from '../../src/shared/free-cores.js';
import { WriteBehind } from '../../src/shared/write-behind.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('runningHash', () => {
  let dir: string;
  let large: Buffer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fex-file-hash-'));
    large = randomBytes(OFF_THREAD_MIN_BYTES + 3 * 1024 * 1024 + 17);
  });
  after(async () => {
    await remove(dir);
  });

  it('hashes a large file on the thread as its batches land', async () => {
    const file = await open(join(dir, 'landing'), 'w+');
    try {
      const hash = runningHash(file.fd, large.length, undefined, true);
      const disk = new WriteBehind(file, { onWritten: (written) => hash.landed(written) });
      for (let at = 0; at < large.length; at += 65_536) {
        const chunk = large.subarray(at, at + 65_536);
        // The thread reads the file: what passes is not what it hashes.
        hash.passed(Buffer.alloc(chunk.length));
        await disk.write(chunk);
      }
      await disk.flush();
      assert.equal(await hash.digest(large.length), sha256(large));
    } finally {
      await file.close();
    }
  });

  it('hashes a whole source file ahead of the sender, and several files at once', async () => {
    const other = randomBytes(OFF_THREAD_MIN_BYTES + 5);
    await writeFile(join(dir, 'a'), large);
    await writeFile(join(dir, 'b'), other);
    const a = await open(join(dir, 'a'), 'r');
    const b = await open(join(dir, 'b'), 'r');
    try {
      const hashA = runningHash(a.fd, large.length, undefined, true);
      const hashB = runningHash(b.fd, other.length, undefined, true);
      hashA.landed(large.length);
      hashB.landed(other.length);
      const [digestA, digestB] = await Promise.all([
        hashA.digest(large.length),
        hashB.digest(other.length),
      ]);
      assert.equal(digestA, sha256(large));
      assert.equal(digestB, sha256(other));
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('fails the digest of a file shorter than promised, without hanging', async () => {
    await writeFile(join(dir, 'short'), large.subarray(0, OFF_THREAD_MIN_BYTES));
    const file = await open(join(dir, 'short'), 'r');
    try {
      const hash = runningHash(file.fd, large.length, undefined, true);
      hash.landed(large.length);
      await assert.rejects(hash.digest(large.length), /ended at 16777216 bytes/);
    } finally {
      await file.close();
    }
  });

  it('lets go of the descriptor on release, before any digest', async () => {
    await writeFile(join(dir, 'released'), large);
    const file = await open(join(dir, 'released'), 'r');
    const hash = runningHash(file.fd, large.length, undefined, true);
    hash.landed(large.length);
    await hash.release();
    await file.close();
    await assert.rejects(hash.digest(large.length), /already taken/);
  });

  it('hashes a small file inline from the chunks that pass, continuing a prefix', async () => {
    const small = randomBytes(100_000);
    const prefix = createHash('sha256').update(small.subarray(0, 10));
    // No descriptor is read for a small file: -1 would fail any read.
    const hash = runningHash(-1, small.length, prefix);
    assert.equal(hashOffThread(small.length), false);
    hash.passed(small.subarray(10));
    hash.landed(small.length);
    assert.equal(await hash.digest(small.length), sha256(small));
    await hash.release();
  });

  it('hashes inline until the gate answers, then on the thread from offset 0 if it opens', async () => {
    for (const answer of [true, false]) {
      const file = await open(join(dir, `decided-${answer}`), 'w+');
      try {
        let asked = 0;
        // Not known for the first 3 chunks (as a process ~0.1 s into its transfer), then known.
        const gate = () => (++asked <= 3 ? undefined : answer);
        const hash = runningHash(file.fd, large.length, undefined, gate);
        const disk = new WriteBehind(file, { onWritten: (written) => hash.landed(written) });
        for (let at = 0; at < large.length; at += 1024 * 1024) {
          const chunk = large.subarray(at, at + 1024 * 1024);
          hash.passed(chunk);
          await disk.write(chunk);
        }
        await disk.flush();
        assert.equal(await hash.digest(large.length), sha256(large), `gate ${answer}`);
        await hash.release();
        assert.ok(asked >= 4 && asked <= 5, `the gate is not asked once it answered (${asked})`);
      } finally {
        await file.close();
      }
    }
  });

  it('opens the gate only with a core free beyond the main thread, and waits for a window', () => {
    const big = OFF_THREAD_MIN_BYTES;
    assert.equal(
      hashOffThread(big, () => THREAD_MIN_FREE_CORES),
      true,
    );
    assert.equal(
      hashOffThread(big, () => 1.2),
      false,
    );
    assert.equal(
      hashOffThread(big, () => undefined),
      undefined,
    );
    assert.equal(
      hashOffThread(big - 1, () => 2),
      false,
    );
  });

  it('reads the free cores from the CPU counters over a window of its own', async () => {
    const first = freeCores();
    // 150 ms of wall time is a window long enough, however busy the machine is.
    const until = Date.now() + 150;
    while (Date.now() < until);
    const later = freeCores();
    assert.ok(later !== undefined, `a window of 150 ms is enough (first: ${first})`);
    // Idle time plus this process's own, over the window: between none and every core.
    assert.ok(later >= 0 && later <= availableParallelism() + 0.5, `free ${later}`);
  });
});
