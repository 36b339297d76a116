/**
 * Property tests of the framing: any header survives encode and decode whatever the network does
 * to the chunks, and no sequence of bytes makes the reader yield garbage, throw anything but a
 * FexError of the stream kind, or spin. The seed is fixed so a run is reproducible; FC_SEED=<n>
 * explores another part of the space.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_HEADER_BYTES, type Header } from '../../src/protocol/constants.js';
import { FexError } from '../../src/shared/errors.js';
import { encodeHeader, FrameReader, parseHeader } from '../../src/protocol/frame.js';

const seed = Number(process.env.FC_SEED ?? 20231106);

/** `bytes` cut at the given offsets (taken modulo its length, so any offsets will do). */
function cutAt(bytes: Uint8Array, offsets: number[], emptyChunks: boolean): Buffer[] {
  const buffer = Buffer.from(bytes);
  const points = [...new Set(offsets.map((o) => (buffer.length ? o % (buffer.length + 1) : 0)))];
  points.sort((a, b) => a - b);
  const out: Buffer[] = [];
  let start = 0;
  for (const point of [...points, buffer.length]) {
    if (point > start || emptyChunks) out.push(buffer.subarray(start, point));
    start = Math.max(start, point);
  }
  return out;
}

async function* source(chunks: Buffer[]): AsyncGenerator<Buffer> {
  for (const chunk of chunks) yield chunk;
}

async function readBody(reader: FrameReader): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of reader.body()) parts.push(part);
  return Buffer.concat(parts);
}

/** What a header is after a trip through JSON: the value a peer must see. */
function viaJson(header: Header): Header {
  return JSON.parse(JSON.stringify(header)) as Header;
}

const chunking = fc.record({
  offsets: fc.array(fc.nat(), { maxLength: 40 }),
  emptyChunks: fc.boolean(),
});

const headerArb: fc.Arbitrary<Header> = fc
  .record(
    {
      type: fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }),
      id: fc.maxSafeNat(),
      extra: fc.dictionary(
        fc
          .string({ unit: 'binary', maxLength: 12 })
          .filter((k) => !['type', 'id', 'body'].includes(k)),
        fc.jsonValue({ maxDepth: 3 }),
        { maxKeys: 6 },
      ),
    },
    { requiredKeys: ['type', 'extra'] },
  )
  .map(({ type, id, extra }): Header => ({ ...extra, type, ...(id === undefined ? {} : { id }) }))
  // Room for a `body` field: every header here can be sent.
  .filter((header) => Buffer.byteLength(JSON.stringify(header)) + 32 < MAX_HEADER_BYTES);

/** Headers, some of them too large to send. */
const anyHeaderArb: fc.Arbitrary<Header> = fc.oneof(
  headerArb,
  fc
    .tuple(headerArb, fc.integer({ min: MAX_HEADER_BYTES - 64, max: MAX_HEADER_BYTES + 64 }))
    .map(([header, length]) => ({ ...header, padding: 'x'.repeat(length) })),
);

interface Frame {
  header: Header;
  body: Buffer | undefined;
  /** Whether the reader's caller reads the body or lets next() skip it. */
  consume: boolean;
}

const frameArb: fc.Arbitrary<Frame> = fc.record({
  header: headerArb,
  body: fc.option(
    fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)),
    {
      nil: undefined,
    },
  ),
  consume: fc.boolean(),
});

function encodeFrame(frame: Frame): Buffer {
  if (!frame.body) return encodeHeader(frame.header);
  return Buffer.concat([encodeHeader({ ...frame.header, body: frame.body.length }), frame.body]);
}

function isStreamError(error: unknown): boolean {
  return (
    error instanceof FexError && (error.code === 'E_BAD_FRAME' || error.code === 'CONNECTION_LOST')
  );
}

describe('framing, for arbitrary headers and chunkings', () => {
  it('decodes what it encoded, headers and bodies, split at arbitrary points', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(frameArb, { minLength: 1, maxLength: 5 }),
        chunking,
        async (frames, cut) => {
          const bytes = Buffer.concat(frames.map(encodeFrame));
          const reader = new FrameReader(source(cutAt(bytes, cut.offsets, cut.emptyChunks)));
          for (const frame of frames) {
            const header = await reader.next();
            const expected = viaJson(
              frame.body ? { ...frame.header, body: frame.body.length } : frame.header,
            );
            assert.deepStrictEqual(header, expected);
            if (frame.body && frame.consume) assert.ok((await readBody(reader)).equals(frame.body));
          }
          assert.equal(await reader.next(), null);
        },
      ),
      { seed, numRuns: 1_500 },
    );
  });

  it('reports a stream cut inside a frame as CONNECTION_LOST, never as a clean end', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(frameArb, { minLength: 1, maxLength: 4 }),
        fc.nat(),
        chunking,
        async (frames, cutSeed, cut) => {
          const encoded = frames.map(encodeFrame);
          const whole = Buffer.concat(encoded.slice(0, -1));
          const last = encoded[encoded.length - 1]!;
          // Keep between 1 and all but one byte of the last frame.
          const keep = 1 + (cutSeed % (last.length - 1));
          const bytes = Buffer.concat([whole, last.subarray(0, keep)]);
          const reader = new FrameReader(source(cutAt(bytes, cut.offsets, cut.emptyChunks)));
          const expectLost = (error: unknown) => {
            assert.ok(error instanceof FexError, String(error));
            assert.equal(error.code, 'CONNECTION_LOST');
            return true;
          };
          for (const frame of frames.slice(0, -1)) {
            assert.notEqual(await reader.next(), null);
            if (frame.body && frame.consume) await readBody(reader);
          }
          const lastFrame = frames[frames.length - 1]!;
          const headerBytes = last.length - (lastFrame.body?.length ?? 0);
          if (keep < headerBytes) {
            await assert.rejects(reader.next(), expectLost);
          } else {
            // The header arrived whole; its body is what was cut.
            assert.notEqual(await reader.next(), null);
            await assert.rejects(readBody(reader), expectLost);
          }
        },
      ),
      { seed, numRuns: 1_500 },
    );
  });

  it('encodes a header to a length prefix and exactly the JSON text, and parses it back', () => {
    fc.assert(
      fc.property(anyHeaderArb, (header) => {
        const json = Buffer.from(JSON.stringify(header), 'utf8');
        if (json.length > MAX_HEADER_BYTES) {
          assert.throws(() => encodeHeader(header), isStreamError);
          return;
        }
        const frame = encodeHeader(header);
        assert.equal(frame.readUInt32BE(0), json.length);
        assert.ok(frame.subarray(4).equals(json));
        assert.deepStrictEqual(parseHeader(frame.subarray(4)), viaJson(header));
      }),
      { seed, numRuns: 3_000 },
    );
  });
});

/** Byte soup: pure noise, and valid frames broken in the ways a bad peer breaks them. */
const hostileBytes = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  // A plausible length prefix in front of noise.
  fc
    .tuple(fc.integer({ min: 0, max: 400 }), fc.uint8Array({ maxLength: 300 }))
    .map(([length, rest]) => {
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32BE(length, 0);
      return Buffer.concat([prefix, rest]);
    }),
  // Any length prefix at all, including ones past the header limit.
  fc.tuple(fc.nat({ max: 0xffffffff }), fc.uint8Array({ maxLength: 64 })).map(([length, rest]) => {
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(length, 0);
    return Buffer.concat([prefix, rest]);
  }),
  // JSON text that is not a valid header: arrays, scalars, bad ids and bodies.
  fc
    .oneof(
      fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
      fc
        .record({ type: fc.jsonValue({ maxDepth: 1 }), id: fc.jsonValue({ maxDepth: 1 }) })
        .map((v) => JSON.stringify(v)),
      fc
        .record({
          type: fc.string({ maxLength: 70 }),
          body: fc.oneof(fc.integer({ min: -5, max: 50 }), fc.double(), fc.string()),
        })
        .map((v) => JSON.stringify(v)),
      fc.string({ unit: 'binary', maxLength: 60 }),
    )
    .map((text) => {
      const json = Buffer.from(text, 'utf8');
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32BE(json.length, 0);
      return Buffer.concat([prefix, json]);
    }),
  // Valid frames, then mutated: bytes flipped, cut short, or followed by noise.
  fc
    .tuple(
      fc.array(frameArb, { minLength: 1, maxLength: 3 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 3 }),
      fc.nat(),
      fc.uint8Array({ maxLength: 16 }),
    )
    .map(([frames, flips, cutTo, tail]) => {
      const bytes = Buffer.concat(frames.map(encodeFrame));
      for (const [at, xor] of flips) bytes[at % bytes.length]! ^= xor;
      return Buffer.concat([bytes.subarray(0, cutTo % (bytes.length + 1)), Buffer.from(tail)]);
    }),
);

describe('framing, for arbitrary bytes', () => {
  it('yields valid headers or throws E_BAD_FRAME / CONNECTION_LOST, and always finishes', async () => {
    await fc.assert(
      fc.asyncProperty(hostileBytes, chunking, fc.boolean(), async (bytes, cut, consume) => {
        const reader = new FrameReader(source(cutAt(bytes, cut.offsets, cut.emptyChunks)));
        // Every frame takes at least 5 bytes, so more reads than that means the reader spins.
        const maxFrames = Math.floor(bytes.length / 5) + 1;
        let frames = 0;
        try {
          for (;;) {
            const header = await reader.next();
            if (header === null) break;
            frames += 1;
            assert.ok(frames <= maxFrames, 'the reader yields more frames than the bytes hold');
            // A header the reader yields is one a peer could have sent: it round-trips.
            assert.deepStrictEqual(parseHeader(encodeHeader(header).subarray(4)), header);
            assert.equal(typeof header.type, 'string');
            assert.ok(header.type.length >= 1 && header.type.length <= 64);
            for (const field of ['id', 'body'] as const) {
              const v = header[field];
              assert.ok(v === undefined || (Number.isSafeInteger(v) && (v as number) >= 0));
            }
            if (consume) {
              const body = await readBody(reader);
              assert.equal(body.length, header.body ?? 0);
            }
          }
        } catch (error) {
          if (error instanceof assert.AssertionError) throw error;
          assert.ok(
            isStreamError(error),
            `expected E_BAD_FRAME or CONNECTION_LOST, got ${String((error as Error)?.stack ?? error)}`,
          );
        }
      }),
      { seed, numRuns: 4_000 },
    );
  });

  it('after a frame error, the stream is not resynchronised into yielding frames', async () => {
    // A bad length prefix followed by a perfectly valid frame: the valid frame must not appear,
    // since the reader cannot know where it starts.
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constant(0), fc.integer({ min: MAX_HEADER_BYTES + 1, max: 0xffffffff })),
        headerArb,
        chunking,
        async (badLength, header, cut) => {
          const prefix = Buffer.alloc(4);
          prefix.writeUInt32BE(badLength, 0);
          const bytes = Buffer.concat([prefix, encodeHeader(header)]);
          const reader = new FrameReader(source(cutAt(bytes, cut.offsets, cut.emptyChunks)));
          await assert.rejects(reader.next(), (error: unknown) => {
            assert.ok(error instanceof FexError);
            assert.equal(error.code, 'E_BAD_FRAME');
            return true;
          });
        },
      ),
      { seed, numRuns: 500 },
    );
  });
});
