/**
 * The frame parser: length prefix, bounded JSON header, optional raw body, over chunks cut
 * anywhere by the network.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_HEADER_BYTES, type Header } from '../../src/protocol/constants.js';
import { FexError } from '../../src/shared/errors.js';
import { encodeHeader, FrameReader } from '../../src/protocol/frame.js';

/** A whole frame: header (with `body` set when a body is given) and body bytes. */
function frame(header: Header, body?: Buffer): Buffer {
  if (!body) return encodeHeader(header);
  return Buffer.concat([encodeHeader({ ...header, body: body.length }), body]);
}

/** A frame whose header bytes are given verbatim, e.g. text that is not valid JSON. */
function rawFrame(headerText: string): Buffer {
  const json = Buffer.from(headerText, 'utf8');
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(json.length, 0);
  return Buffer.concat([prefix, json]);
}

async function* chunks(...parts: Buffer[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield part;
}

function bytewise(bytes: Buffer): Buffer[] {
  return [...bytes].map((b) => Buffer.from([b]));
}

/** Cuts `bytes` at the given offsets. */
function cut(bytes: Buffer, ...offsets: number[]): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (const offset of [...offsets, bytes.length]) {
    out.push(bytes.subarray(start, offset));
    start = offset;
  }
  return out;
}

async function readBody(reader: FrameReader): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of reader.body()) parts.push(part);
  return Buffer.concat(parts);
}

function fexCode(code: string): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof FexError, `expected a FexError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };
}

function readerOf(...parts: Buffer[]): FrameReader {
  return new FrameReader(chunks(...parts));
}

describe('FrameReader', () => {
  const body = Buffer.from('0123456789abcdefghij');

  it('reads a frame delivered one byte at a time', async () => {
    const reader = readerOf(...bytewise(frame({ type: 'data', id: 7 }, body)));
    assert.deepEqual(await reader.next(), { type: 'data', id: 7, body: body.length });
    assert.deepEqual(await readBody(reader), body);
    assert.equal(await reader.next(), null);
  });

  it('reads several frames coalesced in one chunk, in order', async () => {
    const all = Buffer.concat([
      frame({ type: 'a', id: 1 }),
      frame({ type: 'b', id: 2 }, Buffer.from('xyz')),
      frame({ type: 'c', id: 3 }),
    ]);
    const reader = readerOf(all);
    assert.deepEqual(await reader.next(), { type: 'a', id: 1 });
    assert.deepEqual(await reader.next(), { type: 'b', id: 2, body: 3 });
    const parts: Buffer[] = [];
    for await (const part of reader.body()) parts.push(part);
    // The body is cut out of the shared chunk: none of the next frame's bytes leak into it.
    assert.equal(Buffer.concat(parts).toString(), 'xyz');
    assert.deepEqual(await reader.next(), { type: 'c', id: 3 });
    assert.equal(await reader.next(), null);
  });

  it('reads a header split inside the length prefix and inside the JSON', async () => {
    const bytes = frame({ type: 'hello', version: 1, server: 'fex' });
    const reader = readerOf(...cut(bytes, 1, 3, 9, bytes.length - 1));
    assert.deepEqual(await reader.next(), { type: 'hello', version: 1, server: 'fex' });
    assert.equal(await reader.next(), null);
  });

  it('reads a body split across chunks and coalesced with the next header', async () => {
    const first = frame({ type: 'data' }, body);
    const second = frame({ type: 'commit', sha256: 'ab' });
    const all = Buffer.concat([first, second]);
    const headerEnd = first.length - body.length;
    // One chunk ends mid-body; the next carries the end of the body and the next header's start.
    const reader = readerOf(...cut(all, headerEnd + 5, headerEnd + 12, first.length + 6));
    assert.deepEqual(await reader.next(), { type: 'data', body: body.length });
    const parts: Buffer[] = [];
    for await (const part of reader.body()) parts.push(part);
    assert.ok(parts.length > 1, 'the body arrives in the chunks the stream delivered');
    assert.deepEqual(Buffer.concat(parts), body);
    assert.deepEqual(await reader.next(), { type: 'commit', sha256: 'ab' });
    assert.equal(await reader.next(), null);
  });

  it('skips a body the consumer does not read', async () => {
    const all = Buffer.concat([
      frame({ type: 'data', id: 1 }, body),
      frame({ type: 'data', id: 2 }, Buffer.from('second')),
    ]);
    const reader = readerOf(...cut(all, 10, 30));
    assert.deepEqual(await reader.next(), { type: 'data', id: 1, body: body.length });
    assert.deepEqual(await reader.next(), { type: 'data', id: 2, body: 6 });
    assert.equal((await readBody(reader)).toString(), 'second');
  });

  it('skips the rest of a body the consumer read only in part', async () => {
    const first = frame({ type: 'data' }, body);
    const all = Buffer.concat([first, frame({ type: 'after' })]);
    const reader = readerOf(...cut(all, first.length - body.length + 4));
    await reader.next();
    for await (const part of reader.body()) {
      assert.equal(part.toString(), '0123');
      break;
    }
    assert.deepEqual(await reader.next(), { type: 'after' });
  });

  it('accepts an empty body (body: 0)', async () => {
    const reader = readerOf(frame({ type: 'data', body: 0 }), frame({ type: 'x' }));
    assert.deepEqual(await reader.next(), { type: 'data', body: 0 });
    assert.equal((await readBody(reader)).length, 0);
    assert.deepEqual(await reader.next(), { type: 'x' });
  });

  it('returns null at a clean end of stream, also on an empty stream and empty chunks', async () => {
    assert.equal(await readerOf().next(), null);
    const reader = readerOf(Buffer.alloc(0), frame({ type: 'a' }), Buffer.alloc(0));
    assert.deepEqual(await reader.next(), { type: 'a' });
    assert.equal(await reader.next(), null);
    assert.equal(await reader.next(), null);
  });

  it('throws CONNECTION_LOST when the stream ends inside the prefix or the JSON header', async () => {
    const bytes = frame({ type: 'a', name: 'Hello.txt' });
    await assert.rejects(readerOf(bytes.subarray(0, 2)).next(), fexCode('CONNECTION_LOST'));
    const reader = readerOf(...cut(bytes.subarray(0, bytes.length - 3), 4));
    await assert.rejects(reader.next(), fexCode('CONNECTION_LOST'));
  });

  it('throws CONNECTION_LOST when the stream ends inside a body being read', async () => {
    const bytes = frame({ type: 'data' }, body);
    const reader = readerOf(bytes.subarray(0, bytes.length - 5));
    await reader.next();
    await assert.rejects(readBody(reader), fexCode('CONNECTION_LOST'));
  });

  it('throws CONNECTION_LOST when the stream ends inside a body being skipped', async () => {
    const bytes = frame({ type: 'data' }, body);
    const reader = readerOf(bytes.subarray(0, bytes.length - 1));
    await reader.next();
    await assert.rejects(reader.next(), fexCode('CONNECTION_LOST'));
  });

  it('refuses a length prefix over the limit without waiting for the header', async () => {
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(MAX_HEADER_BYTES + 1, 0);
    // No header bytes follow: the reader must refuse from the prefix alone.
    await assert.rejects(readerOf(prefix).next(), fexCode('E_BAD_FRAME'));
    prefix.writeUInt32BE(0xffffffff, 0);
    await assert.rejects(readerOf(prefix).next(), fexCode('E_BAD_FRAME'));
    // A smaller limit is honoured too.
    const small = new FrameReader(chunks(frame({ type: 'a', name: 'x'.repeat(50) })), {
      maxHeaderBytes: 32,
    });
    await assert.rejects(small.next(), fexCode('E_BAD_FRAME'));
  });

  it('accepts a header of exactly 64 KiB', async () => {
    const skeleton = JSON.stringify({ type: 'x', pad: '' });
    const text = JSON.stringify({ type: 'x', pad: 'p'.repeat(MAX_HEADER_BYTES - skeleton.length) });
    assert.equal(Buffer.byteLength(text), MAX_HEADER_BYTES);
    const header = await readerOf(rawFrame(text)).next();
    assert.equal(header?.type, 'x');
  });

  it('refuses a zero header length', async () => {
    await assert.rejects(
      readerOf(Buffer.alloc(4), frame({ type: 'a' })).next(),
      fexCode('E_BAD_FRAME'),
    );
  });

  it('refuses a header that is not JSON, or JSON but not an object', async () => {
    for (const text of ['{type: hello}', '\u0000\u0001', '[{"type":"a"}]', '"a"', '42', 'null'])
      await assert.rejects(readerOf(rawFrame(text)).next(), fexCode('E_BAD_FRAME'), text);
  });

  it('refuses a header without a valid type', async () => {
    const texts = [
      '{}',
      '{"id":1}',
      '{"type":""}',
      '{"type":7}',
      '{"type":null}',
      '{"type":["a"]}',
      JSON.stringify({ type: 't'.repeat(65) }),
    ];
    for (const text of texts)
      await assert.rejects(readerOf(rawFrame(text)).next(), fexCode('E_BAD_FRAME'), text);
  });

  it('refuses an id or body that is not a non-negative safe integer', async () => {
    const texts = [
      '{"type":"a","id":-1}',
      '{"type":"a","id":1.5}',
      '{"type":"a","id":"1"}',
      '{"type":"a","id":9007199254740993}',
      '{"type":"a","body":-1}',
      '{"type":"a","body":2.5}',
      '{"type":"a","body":"10"}',
      '{"type":"a","body":null}',
    ];
    for (const text of texts)
      await assert.rejects(readerOf(rawFrame(text)).next(), fexCode('E_BAD_FRAME'), text);
  });
});

describe('encodeHeader', () => {
  it('writes a big-endian length prefix followed by the JSON, and reads back equal', async () => {
    const header = { type: 'store', id: 3, name: 'café ☕ 😀.txt', size: 12 };
    const bytes = encodeHeader(header);
    const json = Buffer.from(JSON.stringify(header), 'utf8');
    assert.equal(bytes.readUInt32BE(0), json.length);
    assert.deepEqual(bytes.subarray(4), json);
    assert.deepEqual(await readerOf(bytes).next(), header);
  });

  it('refuses a header larger than 64 KiB with E_BAD_FRAME', () => {
    assert.throws(
      () => encodeHeader({ type: 'x', pad: 'p'.repeat(MAX_HEADER_BYTES) }),
      fexCode('E_BAD_FRAME'),
    );
  });
});
