/**
 * The frame writer over real streams: frames go out whole and in order, even when an event is
 * sent while a body is still being written.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { Header } from '../../src/protocol/constants.js';
import { FexError } from '../../src/shared/errors.js';
import { encodeHeader, FrameReader } from '../../src/protocol/frame.js';
import { FrameWriter } from '../../src/protocol/frame-writer.js';
import { fileChunks, fileStream } from '../../src/shared/file-chunks.js';

interface Received {
  header: Header;
  body: Buffer;
}

/** Every frame of the stream with its whole body, until the stream ends. */
async function readAll(source: AsyncIterable<Buffer>): Promise<Received[]> {
  const reader = new FrameReader(source);
  const out: Received[] = [];
  for (let header = await reader.next(); header; header = await reader.next()) {
    const parts: Buffer[] = [];
    for await (const part of reader.body()) parts.push(part);
    out.push({ header, body: Buffer.concat(parts) });
  }
  return out;
}

function pattern(size: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

function* slices(bytes: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

describe('FrameWriter over a TCP socket pair', () => {
  let server: Server;
  let port: number;
  const sockets: Socket[] = [];

  before(async () => {
    server = createServer((socket) => sockets.push(socket));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    assert.ok(address && typeof address === 'object');
    port = address.port;
  });

  after(async () => {
    for (const socket of sockets) socket.destroy();
    server.close();
    await once(server, 'close');
  });

  /** A connected pair: the client side to write on, the server side to read from. */
  async function pair(): Promise<{ client: Socket; accepted: Promise<Socket> }> {
    const accepted = once(server, 'connection').then(([socket]) => socket as Socket);
    const client = connect(port, '127.0.0.1');
    sockets.push(client);
    await once(client, 'connect');
    return { client, accepted };
  }

  it('keeps an event sent during a body out of the body', async () => {
    const { client, accepted } = await pair();
    const received = readAll(await accepted);
    const writer = new FrameWriter(client);
    const first = Buffer.from('first half|');
    const second = Buffer.from('second half');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let yielded!: () => void;
    const firstYielded = new Promise<void>((resolve) => (yielded = resolve));
    async function* body(): AsyncGenerator<Buffer> {
      yield first;
      yielded();
      await gate;
      yield second;
    }
    const data = writer.sendWithBody({ type: 'data', id: 1 }, first.length + second.length, body());
    await firstYielded;
    // The body is half written: this event must wait for its end.
    const event = writer.send({ type: 'event', event: 'uploaded' });
    release();
    await Promise.all([data, event]);
    client.end();
    const frames = await received;
    assert.deepEqual(
      frames.map((f) => f.header),
      [
        { type: 'data', id: 1, body: first.length + second.length },
        { type: 'event', event: 'uploaded' },
      ],
    );
    assert.deepEqual(frames[0]?.body, Buffer.concat([first, second]));
  });

  it('writes many concurrent frames whole and in call order, through backpressure', async () => {
    const { client, accepted } = await pair();
    const serverSide = await accepted;
    // Nobody reads until everything is queued, so the socket fills up and the writer must wait.
    serverSide.pause();
    const writer = new FrameWriter(client);
    const big = pattern(4 * 1024 * 1024 + 3, 1);
    const small = pattern(100_000, 2);
    const sends: Promise<number>[] = [];
    const expected: Header[] = [];
    for (let i = 0; i < 30; i++) {
      if (i === 5) {
        sends.push(writer.sendWithBody({ type: 'data', id: i }, big.length, slices(big, 65_536)));
        expected.push({ type: 'data', id: i, body: big.length });
      } else if (i === 20) {
        sends.push(writer.sendWithBody({ type: 'data', id: i }, small.length, [small]));
        expected.push({ type: 'data', id: i, body: small.length });
      } else {
        sends.push(writer.send({ type: 'event', id: i }));
        expected.push({ type: 'event', id: i });
      }
    }
    const received = readAll(serverSide);
    const sizes = await Promise.all(sends);
    client.end();
    const frames = await received;
    assert.deepEqual(
      frames.map((f) => f.header),
      expected,
    );
    // Each send says how many bytes its frame took: prefix, header and body.
    assert.deepEqual(
      sizes,
      expected.map((h) => encodeHeader(h).length + (h.body ?? 0)),
    );
    assert.ok(frames[5]?.body.equals(big), 'big body intact');
    assert.ok(frames[20]?.body.equals(small), 'small body intact');
  });
});

describe('FrameWriter with a body of the wrong size', () => {
  function isLocalIo(error: unknown): boolean {
    assert.ok(error instanceof FexError);
    assert.equal(error.code, 'LOCAL_IO');
    return true;
  }

  it('rejects and destroys the stream when the source yields fewer bytes', async () => {
    const stream = new PassThrough();
    stream.resume();
    const writer = new FrameWriter(stream);
    await assert.rejects(
      writer.sendWithBody({ type: 'data', name: 'a.bin' }, 10, [Buffer.alloc(4)]),
      isLocalIo,
    );
    assert.equal(stream.destroyed, true);
  });

  it('rejects when the source yields more bytes, without writing past the size', async () => {
    const stream = new PassThrough();
    const written: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => written.push(chunk));
    const writer = new FrameWriter(stream);
    await assert.rejects(
      writer.sendWithBody({ type: 'data' }, 4, [Buffer.from('abc'), Buffer.from('def')]),
      isLocalIo,
    );
    assert.equal(stream.destroyed, true);
    const all = Buffer.concat(written);
    assert.ok(!all.includes('def'), 'the chunk that overflows the size is not written');
  });

  it('rejects with the source error when the source fails, and later sends fail cleanly', async () => {
    const stream = new PassThrough();
    stream.resume();
    const writer = new FrameWriter(stream);
    // eslint-disable-next-line require-yield
    async function* failing(): AsyncGenerator<Buffer> {
      throw new Error('disk went away');
    }
    await assert.rejects(writer.sendWithBody({ type: 'data' }, 5, failing()), /disk went away/);
    assert.equal(stream.destroyed, true);
    await assert.rejects(writer.send({ type: 'event' }), (error: unknown) => {
      assert.ok(error instanceof FexError);
      assert.equal(error.code, 'CONNECTION_LOST');
      return true;
    });
  });
});

describe('FrameWriter with a source that reuses its memory', () => {
  it('hands each chunk to the stream before asking for the next', async () => {
    // A writable that accepts every write at once (it never asks for a drain) but keeps the
    // chunks until a later turn: a writer that asked for the next chunk as soon as write()
    // returned would see this one overwritten before it left.
    const kept: Buffer[] = [];
    const stream = new Writable({
      highWaterMark: 1 << 30,
      write(chunk: Buffer, _encoding, callback) {
        setImmediate(() => {
          kept.push(Buffer.from(chunk));
          callback();
        });
      },
    });
    const shared = Buffer.alloc(4);
    function* reusing(): Generator<Buffer> {
      for (let i = 1; i <= 5; i++) {
        shared.fill(i);
        yield shared;
      }
    }
    const writer = new FrameWriter(stream);
    await writer.sendWithBody({ type: 'data' }, 20, reusing());
    const body = Buffer.concat(kept.slice(1));
    assert.deepEqual([...body], [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5]);
  });

  it('sends a file stream through its reused chunks, and plain readers get fresh ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fex-chunks-'));
    try {
      const bytes = pattern(3 * 1024 * 1024 + 17, 5);
      await writeFile(join(dir, 'f.bin'), bytes);
      const sent: Buffer[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          sent.push(Buffer.from(chunk));
          callback();
        },
      });
      const file = await open(join(dir, 'f.bin'));
      const stream = fileStream(file, 100, bytes.length);
      await new FrameWriter(sink).sendWithBody({ type: 'ok' }, bytes.length - 100, stream);
      stream.destroy();
      assert.ok(Buffer.concat(sent.slice(1)).equals(bytes.subarray(100)));
      const again = await open(join(dir, 'f.bin'));
      const chunks: Buffer[] = [];
      for await (const chunk of fileStream(again, 0, bytes.length)) chunks.push(chunk as Buffer);
      assert.ok(Buffer.concat(chunks).equals(bytes), 'a plain reader keeps every chunk it got');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lets fileChunks stop early only once its read in flight is over', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fex-chunks-'));
    try {
      await writeFile(join(dir, 'f.bin'), pattern(5000, 1));
      const file = await open(join(dir, 'f.bin'));
      const seen: number[] = [];
      for await (const chunk of fileChunks(file, 0, { chunkBytes: 1024 })) {
        seen.push(chunk.length);
        if (seen.length === 2) break;
      }
      // The generator's return awaited the read it had started, so closing now is safe.
      await file.close();
      assert.deepEqual(seen, [1024, 1024]);
      const whole = await open(join(dir, 'f.bin'));
      const sizes: number[] = [];
      for await (const chunk of fileChunks(whole, 1000, { chunkBytes: 1024 }))
        sizes.push(chunk.length);
      assert.deepEqual(sizes, [1024, 1024, 1024, 928]);
      // With an end, reads stop there, and a smaller expected size makes smaller buffers.
      const stopped: number[] = [];
      const memory = new Set<ArrayBufferLike>();
      for await (const chunk of fileChunks(whole, 10, { end: 310, chunkBytes: 1024 })) {
        stopped.push(chunk.length);
        memory.add(chunk.buffer);
        assert.equal(chunk.buffer.byteLength, 300, 'one buffer the size of what is left');
      }
      await whole.close();
      assert.deepEqual(stopped, [300]);
      assert.equal(memory.size, 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
