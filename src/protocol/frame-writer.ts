/**
 * Writes frames to a socket one at a time. A frame with a body holds the writer until its last
 * byte is written, so an event raised meanwhile waits its turn instead of landing inside the body.
 */
import type { Writable } from 'node:stream';
import { FexError } from './errors.js';
import { encodeHeader } from './frame.js';
import type { Header } from './constants.js';

/** Resolves when the stream drains; rejects if it closes or fails first. */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
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

async function write(stream: Writable, chunk: Buffer): Promise<void> {
  if (stream.destroyed || stream.writableEnded)
    throw new FexError('CONNECTION_LOST', { during: '' });
  if (!stream.write(chunk)) await drained(stream);
}

export class FrameWriter {
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly stream: Writable) {}

  /** Sends a frame without body. */
  send(header: Header): Promise<void> {
    return this.exclusive(() => write(this.stream, encodeHeader(header)));
  }

  /**
   * Sends a header announcing `size` body bytes, then the body. If the source yields a different
   * number of bytes the frame cannot be completed, so the stream is destroyed and this rejects.
   */
  sendWithBody(
    header: Header,
    size: number,
    source: AsyncIterable<Buffer> | Iterable<Buffer>,
  ): Promise<void> {
    return this.exclusive(async () => {
      await write(this.stream, encodeHeader({ ...header, body: size }));
      let sent = 0;
      try {
        for await (const chunk of source) {
          sent += chunk.length;
          if (sent > size) break;
          await write(this.stream, chunk);
        }
      } catch (error) {
        this.stream.destroy();
        throw error;
      }
      if (sent !== size) {
        this.stream.destroy();
        throw new FexError('LOCAL_IO', {
          op: 'send',
          path: String(header.name ?? 'the file'),
          reason: `it changed size during the transfer (${size} bytes expected)`,
        });
      }
    });
  }

  private exclusive(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
