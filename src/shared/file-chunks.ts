/**
 * Reads an open file from an offset to its end in chunks, into two buffers used in turn: the next
 * chunk is read while the consumer sends the last one, and no buffer is allocated per chunk. A
 * fresh 1 MiB buffer per read (what a file ReadStream does) is external memory the garbage
 * collector is told of, and it ran a full mark-compact every ~18 MiB of a large store
 * (docs/performance.md, "Work off the critical path").
 *
 * The consumer must be done with a chunk (written it out, not kept it) before it asks for the
 * next one: that chunk's memory is then read into again.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/** The chunk size of file bodies: 1 MiB reads take a quarter of the round trips of 256 KiB. */
export const FILE_CHUNK_BYTES = 1024 * 1024;

/**
 * A source that can also hand out its bytes in reused memory, to a consumer that is done with
 * each chunk before it asks for the next (FrameWriter.sendWithBody).
 */
export const reusedChunks = Symbol('fex.reusedChunks');

export interface ReusableSource {
  [reusedChunks](): AsyncIterable<Buffer>;
}

export function hasReusedChunks(source: object): source is ReusableSource {
  return reusedChunks in source;
}

/** Where a file's chunks end, and how large they may be. */
export interface ChunkOptions {
  /** Reads stop before this offset (a stored file's size); without it, at the end of the file. */
  end?: number;
  /** The bytes expected from `start` on: no buffer is made larger than that (a small get). */
  expected?: number;
  chunkBytes?: number;
}

/**
 * A stream of an open file from `start` to `end`, which closes the file when destroyed. An
 * ordinary reader (a plugin) gets fresh buffers from it; a frame writer takes the same bytes
 * through `fileChunks` instead.
 */
export function fileStream(
  file: FileHandle,
  start: number,
  end: number,
): Readable & ReusableSource {
  const stream = file.createReadStream({
    start,
    // Node sizes each read's buffer by what is left before `end`: without it, a get of 64 KiB
    // took two fresh 1 MiB buffers (the second to find the end), 2 GiB for 1,000 gets.
    end: Math.max(start, end - 1),
    highWaterMark: FILE_CHUNK_BYTES,
  });
  return Object.assign(stream, {
    [reusedChunks]: () => fileChunks(file, start, { end }),
  });
}

/**
 * The file's bytes from `start`, in at most two buffers of at most `chunkBytes` (and no larger
 * than the bytes expected), made only when first needed: a small file takes one buffer its size.
 */
export async function* fileChunks(
  file: FileHandle,
  start: number,
  { end = Infinity, expected = end - start, chunkBytes = FILE_CHUNK_BYTES }: ChunkOptions = {},
): AsyncGenerator<Buffer, void, undefined> {
  const size = Math.max(1, Math.min(chunkBytes, expected));
  const buffers: Buffer[] = [];
  let at = start;
  let turn = 0;
  const next = () => {
    if (at >= end) return undefined;
    const buffer = (buffers[turn] ??= Buffer.allocUnsafeSlow(size));
    return file.read(buffer, 0, Math.min(size, end - at), at);
  };
  let reading: Promise<{ bytesRead: number }> | undefined = next();
  try {
    while (reading) {
      const { bytesRead } = await reading;
      reading = undefined;
      if (bytesRead === 0) return;
      const chunk = buffers[turn]!.subarray(0, bytesRead);
      at += bytesRead;
      turn ^= 1;
      reading = next();
      yield chunk;
    }
  } finally {
    // Stopped early (the connection broke): the caller closes the file once this returns, so
    // the read in flight must be over by then.
    await reading?.catch(() => undefined);
  }
}
