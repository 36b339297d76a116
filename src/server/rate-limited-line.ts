/**
 * Log lines about what a flood can repeat (failed TLS handshakes, connections turned away), kept
 * to a bounded rate so the flood cannot fill the log or the disk under it.
 */
import type { Logger } from './logger.js';

/**
 * One line per interval at most: the first failure at once, then how many more there were, each
 * interval in which there were any. A flood of 20,000 failures costs a few lines, not 20,000.
 */
export class RateLimitedLine {
  private suppressed = 0;
  private last = '';
  private quietUntil = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Logger,
    /** What every line starts with: `TLS handshake failed`. */
    private readonly what: string,
    private readonly intervalMs: number,
  ) {}

  note(reason: string): void {
    const now = Date.now();
    if (now >= this.quietUntil && this.suppressed === 0) {
      this.log.info(`${this.what}: ${reason}`);
      this.quietUntil = now + this.intervalMs;
      return;
    }
    this.suppressed++;
    this.last = reason;
    this.timer ??= setTimeout(() => this.summarise(), Math.max(0, this.quietUntil - now));
    this.timer.unref();
  }

  private summarise(): void {
    this.timer = undefined;
    const seconds = Math.round(this.intervalMs / 1000);
    this.log.info(
      `${this.what}: ${this.suppressed} more in the last ${seconds} s (last: ${this.last})`,
    );
    this.suppressed = 0;
    this.quietUntil = Date.now() + this.intervalMs;
  }
}
