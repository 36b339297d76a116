/**
 * What holding an event really costs: the writer charges each queued event its frame's bytes
 * plus EVENT_OVERHEAD_BYTES against the per-connection and shared bounds, so that charge must
 * cover the heap the event takes, both waiting in the writer and written into a stream's buffer
 * the peer does not drain. A promise chain per event took about 640 bytes (docs/security.md).
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { encodeHeader } from '../../src/protocol/frame.js';
import { EVENT_OVERHEAD_BYTES, FrameWriter } from '../../src/protocol/frame-writer.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const EVENTS = 20_000;

/** Heap bytes still held once `hold` has queued EVENTS events and the writers took them. */
async function heapPerEvent(hold: (frame: Buffer) => FrameWriter[]): Promise<number> {
  const frame = encodeHeader({
    type: 'event',
    event: 'uploaded',
    handle: 'crowd-1234',
    name: 'crowd-1234.bin',
    size: 65536,
    time: '2026-12-03T12:05:37.123Z',
  });
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  await settle();
  gc();
  const before = process.memoryUsage().heapUsed;
  const writers = hold(frame);
  await settle();
  gc();
  const after = process.memoryUsage().heapUsed;
  assert.equal(
    writers.reduce((sum, w) => sum + w.pendingEventBytes, 0),
    EVENTS * (frame.length + EVENT_OVERHEAD_BYTES),
  );
  return (after - before) / EVENTS;
}

describe('FrameWriter memory', () => {
  it('holds an event waiting its turn for less than its overhead', async () => {
    // A stream that never finishes its first write: every later event waits in the writer.
    const perEvent = await heapPerEvent((frame) => {
      const writers = Array.from(
        { length: 20 },
        () => new FrameWriter(new Writable({ highWaterMark: 1, write: () => undefined })),
      );
      for (let i = 0; i < EVENTS / writers.length; i++)
        for (const writer of writers) writer.sendEvent(frame);
      return writers;
    });
    assert.ok(perEvent < EVENT_OVERHEAD_BYTES, `${perEvent.toFixed(0)} bytes per event`);
  });

  it('holds an event written into a stream that does not drain for less than its overhead', async () => {
    // A buffer that never fills: every event is written into it and stays there, as it does in
    // a socket's own buffer (up to its highWaterMark) while the peer reads nothing.
    const perEvent = await heapPerEvent((frame) => {
      const writers = Array.from(
        { length: 20 },
        () => new FrameWriter(new Writable({ highWaterMark: 2 ** 30, write: () => undefined })),
      );
      for (let i = 0; i < EVENTS / writers.length; i++)
        for (const writer of writers) writer.sendEvent(frame);
      return writers;
    });
    assert.ok(perEvent < EVENT_OVERHEAD_BYTES, `${perEvent.toFixed(0)} bytes per event`);
  });
});
