/**
 * How events reach the connections of other servers. `FexServer` encodes an event once, queues
 * the frame on its own connections, and hands the same bytes to the bus, which carries them to
 * every other server of the cluster; each of those queues them, still unencoded again, on its
 * connections. The bus also keeps presence: which handles have connections on the other servers,
 * so `sendTo` can say how many connections a message reaches wherever they are.
 *
 * One server alone uses `LocalEventBus`, which carries nothing; `RedisEventBus` uses Redis
 * pub/sub (docs/scaling.md).
 */
import type { Logger } from '../logger.js';

/** An event as it travels between servers. */
export interface BusEvent {
  /** The encoded event frame, as it is written to a connection. */
  frame: Buffer;
  /** Only for the connections of this handle (its lower-case form, `handleKey`); else all. */
  to?: string;
  /** The time an uploaded file expires: the expiry sweep of each server wakes for it. */
  wake?: number;
}

export interface EventBus {
  /** Starts carrying other servers' events to `deliver`; called once before the server listens. */
  open(deliver: (event: BusEvent) => void, log: Logger): Promise<void>;
  /** Carries an event to the other servers (this server's connections have it already). */
  publish(event: BusEvent): void;
  /** This server now has `count` connections acting as the handle `key` (0: none). */
  present(key: string, count: number): void;
  /** How many connections the other servers have acting as the handle `key`, as last heard. */
  elsewhere(key: string): number;
  /** Stops carrying; this server's connections are no longer counted anywhere. */
  close(): Promise<void>;
}

/** One server alone: nobody else to tell, nobody elsewhere. */
export class LocalEventBus implements EventBus {
  async open(): Promise<void> {}
  publish(): void {}
  present(): void {}
  elsewhere(): number {
    return 0;
  }
  async close(): Promise<void> {}
}
