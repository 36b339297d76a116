/**
 * The shell's input as a queue of lines. Unlike readline's iterator it lets the shell see which
 * lines have already arrived, so a run of `/store` lines from a pipe can be sent together; it
 * never waits for a line that has not arrived to do so.
 */
import type { Interface } from 'node:readline';

/** Lines held before input is paused, and the level at which it resumes. */
const HIGH_WATER = 4096;
const LOW_WATER = 1024;

export class LineQueue {
  private readonly lines: string[] = [];
  private ended = false;
  private wake: (() => void) | undefined;

  constructor(private readonly rl: Interface) {
    rl.on('line', (line: string) => {
      this.lines.push(line);
      if (this.lines.length >= HIGH_WATER) rl.pause();
      this.notify();
    });
    rl.once('close', () => {
      this.ended = true;
      this.notify();
    });
  }

  /** The next line, or undefined at the end of input. */
  async next(): Promise<string | undefined> {
    while (this.lines.length === 0 && !this.ended)
      await new Promise<void>((resolve) => (this.wake = resolve));
    return this.take();
  }

  /**
   * Takes the lines that have already arrived, from the front, for as long as `accept` maps them
   * to something (at most `max`); the first line it refuses stays.
   */
  takeWhile<T>(accept: (line: string) => T | undefined, max: number): T[] {
    const taken: T[] = [];
    while (taken.length < max && this.lines.length > 0) {
      const value = accept(this.lines[0] as string);
      if (value === undefined) break;
      this.take();
      taken.push(value);
    }
    return taken;
  }

  private take(): string | undefined {
    const line = this.lines.shift();
    // Input that has ended closes readline, paused or not: resuming it then would throw.
    if (this.lines.length === LOW_WATER && !this.ended) this.rl.resume();
    return line;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
