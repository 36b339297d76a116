/**
 * Events queued for a peer that does not read are bounded in bytes, per writer and across
 * writers; what does not fit is dropped, and the peer later hears how many it missed.
 */
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { Header } from '../../src/protocol/constants.js';
import { ByteBudget } from '../../src/shared/byte-budget.js';
import { encodeHeader, FrameReader } from '../../src/protocol/frame.js';
import { EVENT_OVERHEAD_BYTES, FrameWriter } from '../../src/protocol/frame-writer.js';

/** A stream nobody reads yet: it takes a few KiB, then the writer must wait for it to drain. */
const stalled = () => new PassThrough({ highWaterMark: 1024 });

/** Reads everything the writer sent, up to a last frame written after all of it. */
async function headers(stream: PassThrough, writer: FrameWriter): Promise<Header[]> {
  const reader = new FrameReader(stream);
  const out: Header[] = [];
  const reading = (async () => {
    for (let header = await reader.next(); header; header = await reader.next()) out.push(header);
  })();
  await writer.send({ type: 'last' });
  stream.end();
  await reading;
  assert.deepEqual(out.pop(), { type: 'last' });
  return out;
}

/** What the writer charges for holding one event. */
const cost = (frame: Buffer) => frame.length + EVENT_OVERHEAD_BYTES;

const uploaded = (i: number) =>
  encodeHeader({ type: 'event', event: 'uploaded', handle: 'Ann', name: `f${i}.txt`, size: 1 });

describe('FrameWriter events', () => {
  it('holds at most its bound of event bytes, then drops and says how many', async () => {
    const stream = stalled();
    const writer = new FrameWriter(stream, { maxQueuedEventBytes: 4096 });
    const fates = Array.from({ length: 1000 }, (_, i) => writer.sendEvent(uploaded(i)));
    assert.ok(writer.pendingEventBytes <= 4096, `${writer.pendingEventBytes} bytes queued`);
    const queued = fates.filter((f) => f === 'queued').length;
    assert.ok(queued > 0 && queued < 1000, `${queued} queued`);
    // Each event is charged what holding it costs, not only its frame's bytes.
    assert.equal(queued, Math.floor(4096 / cost(uploaded(0))));
    // The peer reads at last: the events kept, in order, then one notice of the rest.
    const received = await headers(stream, writer);
    const events = received.filter((h) => h.event === 'uploaded').map((h) => h.name);
    assert.deepEqual(
      events,
      Array.from({ length: queued }, (_, i) => `f${i}.txt`),
    );
    assert.deepEqual(received.at(-1), { type: 'event', event: 'dropped', count: 1000 - queued });
    assert.equal(writer.pendingEventBytes, 0);
  });

  it('shares one bound across writers, and gives the bytes back once written', async () => {
    const budget = new ByteBudget(6000);
    const streams = [stalled(), stalled(), stalled()];
    const writers = streams.map(
      (s) => new FrameWriter(s, { maxQueuedEventBytes: 4096, sharedEventBudget: budget }),
    );
    // One encoding for every listener: the same Buffer goes to each writer.
    for (let i = 0; i < 500; i++) {
      const frame = uploaded(i);
      for (const writer of writers) writer.sendEvent(frame);
    }
    const held = writers.reduce((sum, w) => sum + w.pendingEventBytes, 0);
    assert.ok(held <= 6000, `${held} bytes held in all`);
    assert.equal(budget.used, held);
    const received = await Promise.all(streams.map((s, i) => headers(s, writers[i]!)));
    for (const frames of received) assert.equal(frames.at(-1)?.event, 'dropped');
    assert.equal(budget.used, 0);
  });

  it('tells of drops again after a notice, with the count since', async () => {
    const stream = stalled();
    const writer = new FrameWriter(stream, { maxQueuedEventBytes: 2048 });
    const reader = new FrameReader(stream);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 100; i++) writer.sendEvent(uploaded(i));
      const marker = writer.send({ type: 'marker' });
      const received: Header[] = [];
      for (let h = await reader.next(); h && h.type !== 'marker'; h = await reader.next())
        received.push(h);
      await marker;
      const notices = received.filter((h) => h.event === 'dropped');
      assert.equal(notices.length, 1);
      assert.equal(received.length - 1 + (notices[0]?.count as number), 100);
    }
  });

  it('keeps its frames in call order when events and answers interleave', async () => {
    const stream = stalled();
    const writer = new FrameWriter(stream);
    const sent: Promise<number>[] = [];
    for (let i = 0; i < 30; i++) {
      writer.sendEvent(uploaded(i));
      if (i % 7 === 3) sent.push(writer.send({ type: 'ok', id: i }));
    }
    const received = await headers(stream, writer);
    await Promise.all(sent);
    const expected: unknown[] = [];
    for (let i = 0; i < 30; i++) {
      expected.push(`f${i}.txt`);
      if (i % 7 === 3) expected.push(i);
    }
    assert.deepEqual(
      received.map((h) => h.name ?? h.id),
      expected,
    );
  });

  it('counts an event until the stream has taken it, and gives it back if the stream dies', async () => {
    const budget = new ByteBudget(1024 * 1024);
    // A sink that takes the first chunk and never finishes it, as a socket whose peer stopped
    // reading: what was written to it stays in its buffer.
    const stream = new Writable({ highWaterMark: 1024, write: () => undefined });
    const writer = new FrameWriter(stream, { sharedEventBudget: budget });
    const frame = uploaded(1);
    for (let i = 0; i < 100; i++) writer.sendEvent(frame);
    // Let the writer hand the stream what it takes: those are still counted while it holds them.
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(stream.writableLength > 0, 'the stream holds some events');
    assert.equal(budget.used, 100 * cost(frame));
    assert.equal(writer.pendingEventBytes, 100 * cost(frame));
    stream.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(writer.pendingEventBytes, 0);
    assert.equal(budget.used, 0);
    // Events for a connection already gone cost nothing for long either.
    writer.sendEvent(frame);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(budget.used, 0);
  });
});
