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

/**
 * A stream of an open file from `start` to its end, which closes the file when destroyed. An
 * ordinary reader (a plugin) gets fresh buffers from it; a frame writer takes the same bytes
 * through `fileChunks` instead.
 */
export function fileStream(file: FileHandle, start: number): Readable & ReusableSource {
  const stream = file.createReadStream({ start, highWaterMark: FILE_CHUNK_BYTES });
  return Object.assign(stream, {
    [reusedChunks]: () => fileChunks(file, start, FILE_CHUNK_BYTES),
  });
}

export async function* fileChunks(
  file: FileHandle,
  start: number,
  chunkBytes: number,
): AsyncGenerator<Buffer, void, undefined> {
  const buffers = [Buffer.allocUnsafeSlow(chunkBytes), Buffer.allocUnsafeSlow(chunkBytes)];
  let at = start;
  let turn = 0;
  let reading: Promise<{ bytesRead: number }> | undefined = file.read(
    buffers[turn]!,
    0,
    chunkBytes,
    at,
  );
  try {
    while (reading) {
      const { bytesRead } = await reading;
      reading = undefined;
      if (bytesRead === 0) return;
      const chunk = buffers[turn]!.subarray(0, bytesRead);
      at += bytesRead;
      turn ^= 1;
      reading = file.read(buffers[turn]!, 0, chunkBytes, at);
      yield chunk;
    }
  } finally {
    // Stopped early (the connection broke): the caller closes the file once this returns, so
    // the read in flight must be over by then.
    await reading?.catch(() => undefined);
  }
}
