/**
 * The receiving ends free their read buffers as a transfer goes: a frame reader that took a
 * large body runs a scavenge every COLLECT_EVERY_BYTES, which V8 itself does not (the buffers
 * are outside its heap), unless the young generation is too full for that to be cheap, and
 * without leaving a `gc` function where code could call it.
 */
import assert from 'node:assert/strict';
import {
  constants,
  PerformanceObserver,
  type NodeGCPerformanceDetail,
  type PerformanceEntry,
} from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { runInNewContext } from 'node:vm';
import { encodeHeader, FrameReader } from '../../src/protocol/frame.js';
import { COLLECT_EVERY_BYTES, received } from '../../src/shared/young-garbage.js';

const MiB = 1024 * 1024;

/** A frame with a body of `total` bytes, in fresh 64 KiB chunks as a socket delivers them. */
async function* transfer(total: number): AsyncGenerator<Buffer> {
  yield encodeHeader({ type: 'put', id: 1, body: total });
  for (let left = total; left > 0; left -= 64 * 1024)
    yield Buffer.allocUnsafeSlow(Math.min(64 * 1024, left));
}

/** The minor collections that ran while `run` did. */
async function minorCollections(run: () => Promise<void>): Promise<number> {
  const seen: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => seen.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  try {
    await run();
    // GC entries are delivered from an immediate after the collection.
    await new Promise((resolve) => setImmediate(resolve));
    seen.push(...observer.takeRecords());
  } finally {
    observer.disconnect();
  }
  // A 'gc' entry carries its kind in `detail`, which the entry type leaves untyped.
  const kind = (entry: PerformanceEntry) =>
    (entry as PerformanceEntry & { detail?: NodeGCPerformanceDetail }).detail?.kind;
  return seen.filter((entry) => kind(entry) === constants.NODE_PERFORMANCE_GC_MINOR).length;
}

describe('young garbage', () => {
  it('runs a scavenge every COLLECT_EVERY_BYTES a frame reader receives', async () => {
    const total = 64 * MiB;
    let bytes = 0;
    const minors = await minorCollections(async () => {
      const reader = new FrameReader(transfer(total));
      const header = await reader.next();
      assert.equal(header?.body, total);
      for await (const chunk of reader.body()) bytes += chunk.length;
    });
    assert.equal(bytes, total);
    // The count is process-wide, so it crosses the mark at least total / COLLECT_EVERY_BYTES - 1
    // times; the few objects this loop makes fill a fresh young generation about 3 times.
    assert.ok(
      minors >= total / COLLECT_EVERY_BYTES - 1,
      `${minors} minor collections for ${total / MiB} MiB received`,
    );
  });

  it('skips the scavenge when the young generation holds more than it would free', async () => {
    const reads = (64 * MiB) / (64 * 1024);
    const count = (bytes: number) => {
      const young = () => bytes;
      return minorCollections(async () => {
        for (let i = 0; i < reads; i++) received(64 * 1024, young);
      });
    };
    // The same 64 MiB counted with a young generation of 9 MiB and of 1 MiB in use. This loop
    // allocates nothing: at most one collection of V8's own (the earlier tests' garbage) is seen.
    const full = await count(COLLECT_EVERY_BYTES + MiB);
    assert.ok(full <= 1, `${full} minor collections with a full young generation`);
    assert.ok((await count(MiB)) >= 64 / 8 - 1);
  });

  it('leaves no gc function in this context or in contexts made later', async () => {
    const reader = new FrameReader(transfer(2 * COLLECT_EVERY_BYTES));
    await reader.next();
    await reader.skipBody();
    assert.equal('gc' in globalThis, false);
    assert.equal(runInNewContext('typeof gc'), 'undefined');
  });
});
