/**
 * Holds a stream's writes until the end of the current tick, so that what is written in one tick
 * (pipelined answers, a header and its small body, a burst of log lines) leaves in one system
 * call instead of one each.
 */
import type { Writable } from 'node:stream';

export class TickCork {
  private corked = false;

  constructor(private readonly stream: Writable) {}

  /** Call before each write. */
  hold(): void {
    if (this.corked) return;
    this.corked = true;
    this.stream.cork();
    process.nextTick(() => this.release());
  }

  /** Hands what is held to the stream now (before `destroy()`, which drops it; `end()` does not). */
  release(): void {
    if (!this.corked) return;
    this.corked = false;
    this.stream.uncork();
  }
}
