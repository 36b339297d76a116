/**
 * One event to 10,000 listeners is encoded once: every connection's writer is handed the very
 * same bytes, on the server that raised it and on any other the bus carries it to; each writer
 * still keeps its own bound and tells a slow reader how many events it dropped.
 */
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { FrameReader } from '../../src/protocol/frame.js';
import { FrameWriter } from '../../src/protocol/frame-writer.js';
import type { ConnectionInfo } from '../../src/server/plugin-api.js';
import { LocalEventBus, type BusEvent, type EventBus } from '../../src/server/state/event-bus.js';
import { FanOut, type Listener } from '../../src/server/state/fan-out.js';

/** A connection whose peer reads everything at once, keeping each chunk the writer handed over. */
function listener(handle: string | undefined, id: number) {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
    writev(entries, done) {
      for (const { chunk } of entries) chunks.push(chunk as Buffer);
      done();
    },
  });
  // Room for a test's 500 events queued at once, each counted as its frame plus its overhead.
  const writer = new FrameWriter(sink, { maxQueuedEventBytes: 256 * 1024 });
  const info = { id, remote: `peer${id}`, handle, greeted: true, end: () => undefined };
  return {
    chunks,
    handle,
    info: info as ConnectionInfo,
    queueEvent: (frame: Buffer) => writer.sendEvent(frame),
  } satisfies Listener & { chunks: Buffer[] };
}

/** A bus for one server, but for what a test must see of it: what is published, who is elsewhere. */
function busOf(parts: Partial<Pick<EventBus, 'publish' | 'elsewhere'>>): EventBus {
  const local = new LocalEventBus();
  return {
    open: () => local.open(),
    publish: parts.publish ?? (() => undefined),
    present: () => undefined,
    elsewhere: parts.elsewhere ?? (() => 0),
    close: () => local.close(),
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('event fan-out', () => {
  it('hands one encoding of an upload to 10,000 listeners, and none to the uploader', async () => {
    const listeners = Array.from({ length: 10_000 }, (_, i) => listener(`User${i}`, i));
    const published: BusEvent[] = [];
    const bus = busOf({ publish: (event) => void published.push(event) });
    const fanOut = new FanOut(listeners, bus, () => undefined);
    const uploader = listeners[0]!;
    fanOut.broadcast(
      { event: 'uploaded', handle: 'User0', name: 'a.txt', size: 1, time: 0 },
      uploader.info,
    );
    await settle();
    assert.deepEqual(uploader.chunks, []);
    const frames = listeners.slice(1).map((l) => l.chunks);
    assert.ok(frames.every((chunks) => chunks.length === 1));
    const first = frames[0]![0]!;
    // The same Buffer object everywhere, and the very one handed to the bus for other servers.
    assert.ok(
      frames.every(([chunk]) => chunk === first),
      'encoded more than once',
    );
    assert.equal(published.length, 1);
    assert.equal(published[0]!.frame, first);
  });

  it('queues an event from another server as it came, to all or to one handle', async () => {
    const listeners = [
      listener('Ann', 1),
      listener('ann', 2),
      listener('Bob', 3),
      listener(undefined, 4),
    ];
    const fanOut = new FanOut(listeners, new LocalEventBus(), () => undefined);
    const frame = Buffer.from([0, 0, 0, 2, 0x7b, 0x7d]);
    fanOut.fromElsewhere({ frame, to: 'ann' });
    fanOut.fromElsewhere({ frame });
    await settle();
    assert.deepEqual(
      listeners.map((l) => l.chunks.length),
      [2, 2, 1, 0],
    );
    assert.ok(listeners.every((l) => l.chunks.every((chunk) => chunk === frame)));
  });

  it('counts the handle’s connections here and elsewhere for sendTo', () => {
    const listeners = [listener('Ann', 1), listener('Bob', 2)];
    // Two connections of Ann's on other servers, as their presence says.
    const bus = busOf({ elsewhere: (key) => (key === 'ann' ? 2 : 0) });
    const fanOut = new FanOut(listeners, bus, () => undefined);
    assert.equal(fanOut.sendTo('ANN', { event: 'message', line: 'hi' }), 3);
    assert.equal(fanOut.sendTo('Carl', { event: 'message', line: 'hi' }), 0);
  });

  it('keeps each listener’s bound: a slow reader drops and is told how many', async () => {
    const slow = new PassThrough({ highWaterMark: 1024 });
    const writer = new FrameWriter(slow, { maxQueuedEventBytes: 4096 });
    const info = { id: 1, remote: 'slow', handle: 'Slow', greeted: true, end: () => undefined };
    const fast = listener('Fast', 2);
    const fanOut = new FanOut(
      [{ handle: 'Slow', info, queueEvent: (frame) => writer.sendEvent(frame) }, fast],
      new LocalEventBus(),
      () => undefined,
    );
    for (let i = 0; i < 500; i++)
      fanOut.broadcast({ event: 'uploaded', handle: 'X', name: `f${i}.txt`, size: 1, time: 0 });
    await settle();
    assert.equal(fast.chunks.length, 500);
    const reader = new FrameReader(slow);
    const seen: string[] = [];
    const reading = (async () => {
      for (let h = await reader.next(); h; h = await reader.next()) seen.push(String(h.event));
    })();
    await writer.send({ type: 'last' });
    slow.end();
    await reading;
    const kept = seen.filter((event) => event === 'uploaded').length;
    assert.ok(kept > 0 && kept < 500, `${kept} kept`);
    assert.equal(seen.filter((event) => event === 'dropped').length, 1);
  });
});
