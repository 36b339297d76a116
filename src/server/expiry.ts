/**
 * Expiry on the server: how long a store is kept (its own `expires`, else the server's default,
 * within the server's maximum), and the sweep that removes files whose time has come. Storage
 * hides an expired file at once (list, stat, read); the sweep deletes it from the disk and tells
 * every client, at start-up and then when the next file is due, so a file vanishes on time
 * without a restart.
 */
import { FexError } from '../shared/errors.js';
import { formatDuration, MAX_AGE_SECONDS } from '../protocol/duration.js';
import type { CoreServices } from './core-services.js';
import type { Limits } from './plugin-api.js';

/** The sweep looks again at least this often, so a clock jump is caught up within it. */
const MAX_SLEEP_MS = 60 * 60 * 1000;

/**
 * The age of a new store in milliseconds, or undefined for one kept until deleted. `requested`:
 * the seconds the client asked for, 0 for never, undefined for the server's default.
 */
export function storeAgeMs(
  limits: Pick<Limits, 'maxAge' | 'defaultAge'>,
  requested: number | undefined,
): number | undefined {
  const { maxAge, defaultAge } = limits;
  const age = requested ?? (defaultAge || maxAge);
  const max = maxAge || MAX_AGE_SECONDS;
  if ((age === 0 && maxAge > 0) || age > max)
    throw new FexError('E_BAD_EXPIRY', { max: formatDuration(max) });
  return age === 0 ? undefined : age * 1000;
}

export class ExpirySweeper {
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires; undefined when no file expires. */
  private due: number | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly server: CoreServices) {}

  /** Sweeps once now (start-up), then whenever the next file is due. */
  async start(): Promise<void> {
    await this.sweep();
  }

  /** A file was stored that expires at `at`: wake up then if that is sooner than planned. */
  wake(at: number): void {
    if (this.stopped || (this.due !== undefined && this.due <= at)) return;
    this.schedule(at);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(at: number | undefined): void {
    clearTimeout(this.timer);
    this.due = at;
    if (at === undefined || this.stopped) return;
    const delay = Math.min(Math.max(at - Date.now(), 0), MAX_SLEEP_MS);
    this.timer = setTimeout(() => void this.sweep(), delay);
    this.timer.unref();
  }

  private sweep(): Promise<void> {
    this.running ??= this.sweepOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweepOnce(): Promise<void> {
    const { storage, log } = this.server;
    // A wake() while this sweep runs sets `due` again; the sooner of it and `next` wins below.
    this.due = undefined;
    let next: number | undefined;
    try {
      const result = await storage.expire(Date.now());
      next = result.next;
      for (const file of result.expired) {
        log.info(`${file.name} expired (stored by ${file.owner ?? 'the operator'}); deleted`);
        this.server.broadcast({
          event: 'expired',
          name: file.name,
          owner: file.owner,
          time: Date.now(),
        });
      }
    } catch (error) {
      log.error(`expiry sweep failed: ${String(error)}; trying again in a minute`);
      next = Date.now() + 60_000;
    }
    this.schedule(
      this.due === undefined || (next !== undefined && next < this.due) ? next : this.due,
    );
  }
}
