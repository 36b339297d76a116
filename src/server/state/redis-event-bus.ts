/**
 * The event bus over Redis pub/sub, with presence kept in Redis under an expiry.
 *
 * Events: one channel, `<prefix>events`. A message is one line of JSON (who sent it, for which
 * handle, when the sweep should wake) and the encoded frame after it, so a frame is encoded once
 * on the server that raised it and never again, however many servers and connections it reaches.
 *
 * Presence: each server keeps a hash `presence:<instance>` (handle -> connections) that expires
 * PRESENCE_TTL_MS after its last heartbeat, and lists its instance in the set `presence:servers`.
 * Every HEARTBEAT_MS it writes its hash again and reads the others', so the users of a server
 * that died without a word (kill -9, a lost machine) vanish from `elsewhere()` on every other
 * server within PRESENCE_TTL_MS + HEARTBEAT_MS. Changes between heartbeats travel on the events
 * channel at once.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { BusEvent, EventBus } from './event-bus.js';
import { channel, describe, duplicateOf, whenReady } from './redis-client.js';
import { SERVICE } from './state-down.js';

/** How long a server's presence outlives its last heartbeat. */
export const PRESENCE_TTL_MS = 6000;
/** How often a server renews its presence and reads the others'. */
export const HEARTBEAT_MS = 2000;
/** The longest a dead server's users stay counted elsewhere (docs/scaling.md). */
export const PRESENCE_VANISH_MS = PRESENCE_TTL_MS + HEARTBEAT_MS;

const SERVERS = 'presence:servers';
const presenceKey = (instance: string) => `presence:${instance}`;

/** The line before the frame: its sender and where it goes, or a change of presence. */
interface Envelope {
  /** The sending server's instance. */
  o: string;
  /** Event: only for this handle key. */
  t?: string;
  /** Event: wake the expiry sweep then. */
  w?: number;
  /** Presence: this handle key now has `n` connections on the sender. */
  k?: string;
  n?: number;
  /** Presence: the sender stopped; forget its connections. */
  gone?: true;
}

export class RedisEventBus implements EventBus {
  /** This process, among the servers sharing the Redis (not the folder's lasting server id). */
  readonly instance = randomBytes(8).toString('hex');
  /** Pub/sub needs a connection of its own; made by open(). */
  private subscriber: Redis | undefined;
  private readonly events: string;
  /** This server's connections per handle key. */
  private readonly mine = new Map<string, number>();
  /** The other servers' connections per handle key, by instance. */
  private others = new Map<string, Map<string, number>>();
  private timer: NodeJS.Timeout | undefined;
  private beating = false;
  private log: Logger | undefined;
  private down = false;
  private closed = false;

  constructor(private readonly redis: Redis) {
    this.events = channel(redis, 'events');
  }

  async open(deliver: (event: BusEvent) => void, log: Logger): Promise<void> {
    this.log = log;
    this.redis.on('error', (error: Error) => this.lost(error));
    this.redis.on('close', () => this.lost());
    this.redis.on('ready', () => this.back());
    await whenReady(this.redis);
    const subscriber = duplicateOf(this.redis);
    this.subscriber = subscriber;
    try {
      await whenReady(subscriber);
      subscriber.on('messageBuffer', (_channel: Buffer, message: Buffer) =>
        this.receive(message, deliver),
      );
      await subscriber.subscribe(this.events);
    } catch (error) {
      subscriber.disconnect();
      throw error;
    }
    await this.heartbeat();
    this.timer = setInterval(() => void this.heartbeat(), HEARTBEAT_MS);
    this.timer.unref();
  }

  publish(event: BusEvent): void {
    const envelope: Envelope = { o: this.instance };
    if (event.to !== undefined) envelope.t = event.to;
    if (event.wake !== undefined) envelope.w = event.wake;
    this.send(envelope, event.frame);
  }

  present(key: string, count: number): void {
    if (count > 0) this.mine.set(key, count);
    else this.mine.delete(key);
    if (this.redis.status !== 'ready') return;
    const hash = presenceKey(this.instance);
    const multi = this.redis.multi();
    if (count > 0) multi.hset(hash, key, count);
    else multi.hdel(hash, key);
    multi.pexpire(hash, PRESENCE_TTL_MS).sadd(SERVERS, this.instance);
    multi.exec().catch(() => undefined);
    this.send({ o: this.instance, k: key, n: count });
  }

  elsewhere(key: string): number {
    // Without Redis nothing reaches the other servers: nobody there counts.
    if (this.redis.status !== 'ready') return 0;
    let total = 0;
    for (const counts of this.others.values()) total += counts.get(key) ?? 0;
    return total;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    if (this.redis.status === 'ready') {
      await this.redis
        .multi()
        .del(presenceKey(this.instance))
        .srem(SERVERS, this.instance)
        .exec()
        .catch(() => undefined);
      this.send({ o: this.instance, gone: true });
    }
    const subscriber = this.subscriber;
    if (subscriber?.status === 'ready')
      await subscriber.quit().catch(() => subscriber.disconnect());
    else subscriber?.disconnect();
  }

  private send(envelope: Envelope, frame?: Buffer): void {
    if (this.redis.status !== 'ready') return;
    const head = Buffer.from(`${JSON.stringify(envelope)}\n`, 'utf8');
    const message = frame ? Buffer.concat([head, frame]) : head;
    this.redis.publish(this.events, message).catch(() => undefined);
  }

  private receive(message: Buffer, deliver: (event: BusEvent) => void): void {
    const end = message.indexOf(0x0a);
    if (end < 0) return;
    let envelope: Envelope;
    try {
      envelope = JSON.parse(message.subarray(0, end).toString('utf8')) as Envelope;
    } catch {
      return;
    }
    if (envelope.o === this.instance || typeof envelope.o !== 'string') return;
    if (envelope.gone) {
      this.others.delete(envelope.o);
      return;
    }
    if (typeof envelope.k === 'string' && typeof envelope.n === 'number') {
      const counts = this.others.get(envelope.o) ?? new Map<string, number>();
      if (envelope.n > 0) counts.set(envelope.k, envelope.n);
      else counts.delete(envelope.k);
      this.others.set(envelope.o, counts);
      return;
    }
    const frame = message.subarray(end + 1);
    if (frame.length === 0) return;
    deliver({
      frame,
      ...(typeof envelope.t === 'string' ? { to: envelope.t } : {}),
      ...(typeof envelope.w === 'number' ? { wake: envelope.w } : {}),
    });
  }

  /** Renews this server's presence, then reads every other server's. */
  private async heartbeat(): Promise<void> {
    if (this.beating || this.closed || this.redis.status !== 'ready') return;
    this.beating = true;
    try {
      const hash = presenceKey(this.instance);
      const multi = this.redis.multi().del(hash);
      if (this.mine.size > 0) multi.hset(hash, Object.fromEntries(this.mine));
      await multi.pexpire(hash, PRESENCE_TTL_MS).sadd(SERVERS, this.instance).exec();
      const instances = (await this.redis.smembers(SERVERS)).filter((i) => i !== this.instance);
      const read = this.redis.pipeline();
      for (const instance of instances) read.hgetall(presenceKey(instance));
      const results = (await read.exec()) ?? [];
      const others = new Map<string, Map<string, number>>();
      const vanished: string[] = [];
      instances.forEach((instance, i) => {
        const [error, value] = results[i] ?? [null, {}];
        const entries = Object.entries((error ? {} : value) as Record<string, string>);
        if (entries.length === 0) vanished.push(instance);
        else others.set(instance, new Map(entries.map(([key, n]) => [key, Number(n)])));
      });
      this.others = others;
      // A server with no users has no hash: it adds itself back at its next heartbeat.
      if (vanished.length > 0) await this.redis.srem(SERVERS, ...vanished);
    } catch {
      // Redis went away meanwhile: lost() says so; the next heartbeat tries again.
    } finally {
      this.beating = false;
    }
  }

  private lost(error?: Error): void {
    if (this.down || this.closed) return;
    this.down = true;
    const why = error
      ? ((error as NodeJS.ErrnoException).code ?? error.message)
      : 'the connection closed';
    this.log?.error(
      `${SERVICE}: lost ${describe(this.redis)} (${why}); requests that need it fail with E_UNAVAILABLE until it is back`,
    );
  }

  private back(): void {
    if (!this.down || this.closed) return;
    this.down = false;
    this.log?.info(`${SERVICE}: ${describe(this.redis)} is back`);
    void this.heartbeat();
  }
}
