/**
 * Writes frames to a socket one at a time. A frame with a body holds the writer until its last
 * byte is written, so an event raised meanwhile waits its turn instead of landing inside the body.
 */
import type { Writable } from 'node:stream';
import { changedSizeError, FexError } from '../shared/errors.js';
import { encodeHeader } from './frame.js';
import type { Header } from './constants.js';
import { TickCork } from '../shared/tick-cork.js';

/**
 * Resolves when the stream drains; rejects if it closes or fails first, or (with a time limit)
 * if the peer reads nothing for that long: a peer that stops reading must not hold the writer,
 * and its connection, for ever.
 */
function drained(stream: Writable, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            done(new FexError('E_TIMEOUT', { reason: 'the other side stopped reading' }));
            stream.destroy();
          }, timeoutMs)
        : undefined;
    const done = (error?: Error) => {
      clearTimeout(timer);
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      stream.off('error', done);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new FexError('CONNECTION_LOST', { during: ' during a transfer' }));
    stream.on('drain', onDrain);
    stream.on('close', onClose);
    stream.on('error', done);
  });
}

export interface FrameWriterOptions {
  /** Most milliseconds to wait for the peer to read; 0 or absent waits for ever. */
  drainTimeoutMs?: number;
}

export class FrameWriter {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly cork: TickCork;
  private readonly drainTimeoutMs: number;

  constructor(
    private readonly stream: Writable,
    options: FrameWriterOptions = {},
  ) {
    this.drainTimeoutMs = options.drainTimeoutMs ?? 0;
    this.cork = new TickCork(stream);
  }

  /** Sends a frame without body; resolves with the bytes it took. */
  send(header: Header): Promise<number> {
    return this.exclusive(async () => {
      const frame = encodeHeader(header);
      await this.write(frame);
      return frame.length;
    });
  }

  /**
   * Sends a header announcing `size` body bytes, then the body. If the source yields a different
   * number of bytes the frame cannot be completed, so the stream is destroyed and this rejects.
   */
  sendWithBody(
    header: Header,
    size: number,
    source: AsyncIterable<Buffer> | Iterable<Buffer>,
  ): Promise<number> {
    return this.exclusive(async () => {
      const frame = encodeHeader({ ...header, body: size });
      await this.write(frame);
      let sent = 0;
      try {
        for await (const chunk of source) {
          sent += chunk.length;
          if (sent > size) break;
          await this.write(chunk);
        }
      } catch (error) {
        this.stream.destroy();
        throw error;
      }
      if (sent !== size) {
        this.stream.destroy();
        throw changedSizeError(String(header.name ?? 'the file'), size);
      }
      return frame.length + size;
    });
  }

  /**
   * Hands everything written so far to the socket now instead of at the end of the tick. Call it
   * before destroying the socket: `destroy()` drops what is still corked (`end()` does not).
   */
  uncork(): void {
    this.cork.release();
  }

  private async write(chunk: Buffer): Promise<void> {
    const stream = this.stream;
    if (stream.destroyed || stream.writableEnded)
      throw new FexError('CONNECTION_LOST', { during: '' });
    this.cork.hold();
    if (!stream.write(chunk)) await drained(stream, this.drainTimeoutMs);
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}
