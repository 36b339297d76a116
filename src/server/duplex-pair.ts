/**
 * Two connected in-memory streams: what one end writes, the other reads, with backpressure (a
 * write's callback waits until the other end has read). The server's side stands in for a socket,
 * so an in-process connection is served by the very code that serves TCP (in-process.ts).
 */
import { Duplex } from 'node:stream';

/** The server's end: a stream with the socket fields a Connection reads. */
export class PairedStream extends Duplex {
  other!: PairedStream;
  /** A write the other end has not read yet: called once it has. */
  private waiting: (() => void) | undefined;

  constructor(
    readonly remoteAddress: string,
    readonly remotePort: number | undefined,
  ) {
    super({ allowHalfOpen: false });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    if (this.other.destroyed) return callback();
    if (this.other.push(chunk)) callback();
    else this.waiting = callback;
  }

  override _final(callback: () => void): void {
    this.other.push(null);
    callback();
  }

  override _read(): void {
    const waiting = this.other.waiting;
    this.other.waiting = undefined;
    waiting?.();
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
    // The other end sees the connection close, as a socket's peer does.
    if (!this.other.destroyed) this.other.destroy();
    callback(error);
  }

  /** Sockets have it; a stream in memory has no delay to turn off. */
  setNoDelay(): this {
    return this;
  }
}

/** Two ends of one in-memory connection: [server's end, plugin's end]. */
export function duplexPair(address: string, port?: number): [PairedStream, PairedStream] {
  const a = new PairedStream(address, port);
  const b = new PairedStream('in-process', undefined);
  a.other = b;
  b.other = a;
  return [a, b];
}
