/**
 * Events to connections, on this server and through the bus on every other: each event is
 * encoded once, where it is raised, and the same bytes are queued on every connection it goes
 * to, here and on the other servers (10,000 listeners cost one encoding, not 10,000). Each
 * connection's queue keeps its own byte bound, so a slow reader drops events and is told how
 * many (FrameWriter), whichever server raised them.
 */
import { encodeHeader } from '../../protocol/frame.js';
import { handleKey } from '../../protocol/names.js';
import type { EventFate } from '../../protocol/frame-writer.js';
import type { ConnectionInfo } from '../plugin-api.js';
import type { BusEvent, EventBus } from './event-bus.js';

/** A connection as events see it. */
export interface Listener {
  readonly handle: string | undefined;
  readonly info: ConnectionInfo;
  /** Queues an encoded event frame, the same Buffer for every listener. */
  queueEvent(frame: Buffer): EventFate | 'closed';
}

export class FanOut {
  constructor(
    private readonly listeners: Iterable<Listener>,
    private readonly bus: EventBus,
    /** Told the expiry of each uploaded file, from any server (the sweep wakes for it). */
    private readonly wake: (time: number) => void,
  ) {}

  /** To every registered connection of every server, but `except` (a connection here). */
  broadcast(event: Record<string, unknown>, except?: ConnectionInfo): void {
    const wake =
      event.event === 'uploaded' && typeof event.expires === 'number' ? event.expires : undefined;
    if (wake !== undefined) this.wake(wake);
    const frame = encodeHeader({ type: 'event', ...event });
    this.queue(frame, (l) => l.info !== except && l.handle !== undefined);
    this.bus.publish({ frame, ...(wake === undefined ? {} : { wake }) });
  }

  /**
   * To the connections of `handle` on every server: how many, this server's that took it plus
   * the other servers' as last heard (docs/plugins.md, "Events").
   */
  sendTo(handle: string, event: Record<string, unknown>): number {
    const key = handleKey(handle);
    const frame = encodeHeader({ type: 'event', ...event });
    const here = this.queue(frame, (l) => l.handle !== undefined && handleKey(l.handle) === key);
    this.bus.publish({ frame, to: key });
    return here + this.bus.elsewhere(key);
  }

  /** An event raised on another server: its very bytes, for this server's connections. */
  fromElsewhere({ frame, to, wake }: BusEvent): void {
    if (wake !== undefined) this.wake(wake);
    this.queue(
      frame,
      to === undefined
        ? (l) => l.handle !== undefined
        : (l) => l.handle !== undefined && handleKey(l.handle) === to,
    );
  }

  /** Queues one frame on every listener picked; how many took it. */
  private queue(frame: Buffer, which: (listener: Listener) => boolean): number {
    let sent = 0;
    for (const listener of this.listeners)
      if (which(listener) && listener.queueEvent(frame) !== 'closed') sent++;
    return sent;
  }
}
