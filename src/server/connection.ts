/**
 * One client connection: reads requests one after another and dispatches each to its handler
 * after the core checks (known type, handshake first, valid fields, registered handle). A handler
 * that fails answers this client with an error; the server and other clients carry on.
 */
import type { Duplex } from 'node:stream';
import type { Header } from '../protocol/constants.js';
import { counted } from '../shared/counted.js';
import { FexError, hasCode } from '../shared/errors.js';
import { FrameReader, isStreamFatal } from '../protocol/frame.js';
import type { ByteBudget } from '../shared/byte-budget.js';
import { FrameWriter, type EventFate } from '../protocol/frame-writer.js';
import type { CoreServices } from './core-services.js';
import type { HandlerRegistry } from './handler-registry.js';
import type { LogEvent } from './logger.js';
import { requestEvent } from './request-log.js';
import type { ConnectionInfo, Identity, ServerServices } from './plugin-api.js';
import { requestContext, type ContextHost, type Traffic } from './request-context.js';
import { admit, asAnswer, errorFrame, runResponseHooks } from './request-steps.js';

/** What a Connection reads from: a TCP or TLS socket, or an in-process stream (in-process.ts). */
export type ConnectionSocket = Duplex & {
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  setNoDelay(noDelay?: boolean): unknown;
  destroySoon?(): void;
};

/** What a connection needs of its server. */
export interface ConnectionServices {
  /** Given to plugins' handlers and to every hook. */
  plugin: ServerServices;
  /** Given to the built-in handlers. */
  core: CoreServices;
  /** Checks and performs an identity change (identify.ts). */
  identify(
    current: string | undefined,
    identity: Identity,
  ): Promise<{ handle: string; credential?: string }>;
  /** The bound on event bytes queued on all connections together. */
  eventBudget?: ByteBudget;
  /**
   * Called before the connection starts acting as `handle` (login, register), after identify()
   * accepted it: may make room by shedding another connection of that handle, or throw to refuse.
   */
  admitHandle?(connection: Connection, handle: string): void;
}

/**
 * Most requests of one connection finishing in the background at once (backpressure), and most
 * body bytes they may hold together: 256 small stores of 1 KiB pipelined share a flush, while 64
 * stores with 64 KiB bodies hold what they always could (docs/security.md, "The memory bound").
 */
export const MAX_DETACHED = 256;
export const MAX_DETACHED_BODY_BYTES = 4 * 1024 * 1024;

export class Connection {
  private acting: string | undefined;
  private greeted = false;
  /** What handlers and hooks see of this connection: read-only. */
  readonly info: ConnectionInfo;
  /** True while a request is reading from the stream. */
  private serving = false;
  /** Requests that detached from the stream and have not been answered yet. */
  private readonly detached = new Set<Promise<void>>();
  /** The body bytes of the detached requests, together. */
  private detachedBytes = 0;
  /** Wakes serve() when a detached request is answered. */
  private onAnswered: (() => void) | undefined;
  /** Resolves once every request read so far has been answered: answers keep request order. */
  private answered: Promise<void> = Promise.resolve();
  private closing = false;
  /** Set by shutdown(): the client is told why the connection ends. */
  private shuttingDown = false;
  private toldShutdown = false;
  private readonly reader: FrameReader;
  private readonly writer: FrameWriter;
  /** Whether the client said goodbye (`leave`), for the disconnect line. */
  private left = false;
  /** Why the server ended the connection, when it did, for the disconnect line. */
  private endedBy: { reason: string; outcome: LogEvent['outcome'] } | undefined;
  private requests = 0;

  constructor(
    readonly id: number,
    private readonly socket: ConnectionSocket,
    private readonly server: ConnectionServices,
    private readonly registry: HandlerRegistry,
    /** Who the connection is from: the socket's peer, unless a trusted balancer said otherwise. */
    peer?: { address: string; port: number | undefined },
  ) {
    this.address = peer?.address ?? socket.remoteAddress ?? '?';
    this.remote = `${this.address}:${(peer ? peer.port : socket.remotePort) ?? '?'}`;
    this.info = Object.freeze(
      Object.defineProperties(
        { id, remote: this.remote, end: () => this.end() },
        {
          handle: { get: () => this.acting, enumerable: true },
          greeted: { get: () => this.greeted, enumerable: true },
        },
      ),
    ) as ConnectionInfo;
    const { limits } = server.plugin;
    const ms = (seconds: number) => seconds * 1000;
    this.reader = new FrameReader(socket, {
      maxHeaderBytes: limits.maxHeaderBytes,
      idleTimeoutMs: ms(limits.idleTimeout),
      stallTimeoutMs: ms(limits.transferTimeout),
      headerTimeoutMs: ms(limits.headerTimeout),
    });
    this.writer = new FrameWriter(socket, {
      drainTimeoutMs: ms(limits.transferTimeout),
      maxQueuedEventBytes: limits.maxQueuedEventBytes,
      sharedEventBudget: server.eventBudget,
    });
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    this.logEvent({ event: 'join', outcome: 'ok', msg: `${this.remote} joined` });
    socket.once('close', () => this.logDisconnect());
  }

  readonly remote: string;

  /** The handle this connection acts as, once identified (only through `ctx.identify`). */
  get handle(): string | undefined {
    return this.acting;
  }

  private get services(): ServerServices {
    return this.server.plugin;
  }

  /** The peer's IP address, for the per-address connection limit. */
  readonly address: string;
  /** When this connection last finished a request (or opened): the oldest idle is shed first. */
  lastActive = Date.now();
  /** Requests started and not yet answered. */
  private inFlight = 0;

  /** Whether nothing is being served: no request read, running or finishing in the background. */
  get idle(): boolean {
    return this.inFlight === 0;
  }

  private logEvent(entry: LogEvent): void {
    this.services.log.event({ handle: this.handle, remote: this.remote, ...entry });
  }

  /** One line when the connection is gone: who, and whether they left or were cut off. */
  private logDisconnect(): void {
    const who = this.handle ? `${this.handle} (${this.remote})` : this.remote;
    const ended = this.left
      ? { reason: 'left', outcome: 'ok' as const }
      : this.shuttingDown
        ? { reason: 'the server is stopping', outcome: 'ok' as const }
        : (this.endedBy ?? {
            reason: 'the client closed the connection without leaving',
            outcome: 'cancelled' as const,
          });
    const count = counted(this.requests, 'request');
    this.logEvent({
      event: 'disconnect',
      outcome: ended.outcome,
      reason: ended.reason,
      requests: this.requests,
      msg: this.left ? `${who} left (${count})` : `${who} disconnected: ${ended.reason} (${count})`,
    });
  }

  /** Serves requests until the client leaves or the connection breaks. */
  async serve(): Promise<void> {
    try {
      while (!this.closing) {
        const header = await this.reader.next();
        if (!header) break;
        // A request that may not overlap sees the effects of every request before it.
        if (this.registry.get(header.type)?.handler.overlap !== true) await this.settled();
        while (
          this.detached.size >= MAX_DETACHED ||
          (this.detached.size > 0 && this.detachedBytes >= MAX_DETACHED_BODY_BYTES)
        )
          await new Promise<void>((resolve) => (this.onAnswered = resolve));
        this.serving = true;
        try {
          await this.start(header);
        } finally {
          this.serving = false;
        }
      }
      await this.settled();
      if (this.shuttingDown) await this.sayShuttingDown();
    } catch (error) {
      // The stream cannot be resynchronised after a malformed frame: say why, then hang up.
      await this.settled();
      if (hasCode(error, 'E_BAD_FRAME')) {
        this.endedBy = { reason: error.message, outcome: 'refused' };
        await this.answerError(undefined, error).catch(() => undefined);
      }
      if (hasCode(error, 'E_TIMEOUT')) {
        this.endedBy = { reason: error.message, outcome: 'cancelled' };
        await this.sendEvent({ event: 'closing', code: error.code, details: error.details });
        this.destroy();
      }
    } finally {
      this.socket.end();
      this.socket.destroySoon?.();
    }
  }

  /**
   * Runs one request until it is answered or detaches from the stream. A detached request goes
   * on in the background; a failure it meets later is answered like any other.
   */
  private async start(header: Header): Promise<void> {
    let detach!: () => void;
    const released = new Promise<'detached'>((resolve) => (detach = () => resolve('detached')));
    const run = this.dispatch(header, detach);
    const done = run.then(() => 'done' as const);
    // Once detached, a later failure is handled below; never leave it unhandled here.
    done.catch(() => undefined);
    if ((await Promise.race([done, released])) === 'done') return;
    const bytes = header.body ?? 0;
    const tracked: Promise<void> = run
      // Only writing can fail after detaching: the connection is gone, so hang up.
      .catch(() => void this.socket.destroy())
      .finally(() => {
        this.detached.delete(tracked);
        this.detachedBytes -= bytes;
        const wake = this.onAnswered;
        this.onAnswered = undefined;
        wake?.();
      });
    this.detached.add(tracked);
    this.detachedBytes += bytes;
  }

  /** Resolves once every detached request has been answered. */
  private async settled(): Promise<void> {
    while (this.detached.size > 0) await Promise.all(this.detached);
  }

  /**
   * Sends an event frame; never throws (the connection may already be gone). Events written in
   * one tick leave in one system call: a group commit can answer several stores at once, and
   * each store means an upload event to every other registered connection.
   */
  async sendEvent(event: Record<string, unknown>): Promise<void> {
    if (this.socket.destroyed) return;
    await this.writer.send({ type: 'event', ...event } as Header).catch(() => undefined);
  }

  /**
   * Queues an encoded event frame, shared by every connection it goes to. Events are bounded in
   * bytes per connection and in total; over the bound it is dropped and the client later told
   * how many it missed (FrameWriter.sendEvent).
   */
  queueEvent(frame: Buffer): EventFate | 'closed' {
    if (this.socket.destroyed) return 'closed';
    return this.writer.sendEvent(frame);
  }

  /** Stops after the request in flight, telling the client why. */
  async shutdown(): Promise<void> {
    this.closing = true;
    this.shuttingDown = true;
    // A request being read ends the loop by itself; otherwise the loop waits for the next frame,
    // so stores still flushing are answered here before the client is told.
    if (this.serving) return;
    await this.settled();
    if (this.serving) return;
    await this.sayShuttingDown();
    this.socket.end();
  }

  /** The `closing` event of a shutdown, sent once whichever path gets here first. */
  private async sayShuttingDown(): Promise<void> {
    if (this.toldShutdown) return;
    this.toldShutdown = true;
    await this.sendEvent({ event: 'closing', code: 'E_SHUTTING_DOWN' });
  }

  end(): void {
    this.closing = true;
  }

  /**
   * Closes an idle connection to make room for another: the client is told (a `closing` event,
   * E_BUSY), and the socket goes within a second whether or not it reads that.
   */
  shed(): void {
    this.closing = true;
    setTimeout(() => this.destroy(), 1000).unref();
    void this.sendEvent({ event: 'closing', code: 'E_BUSY' }).then(() => this.socket.end());
  }

  /** Drops the connection, after handing the socket what is still held for this tick. */
  destroy(): void {
    this.writer.uncork();
    this.socket.destroy();
  }

  private async dispatch(header: Header, detach: () => void): Promise<void> {
    const id = header.id;
    // Without an id no answer can name the request: the client is not speaking the protocol.
    if (id === undefined) throw new FexError('E_BAD_FRAME', { reason: 'a request without "id"' });
    const earlier = this.answered;
    this.inFlight++;
    let answered!: () => void;
    this.answered = new Promise((resolve) => (answered = resolve));
    // Counted from this request's own frames: with pipelining, the socket carries other
    // requests' bytes meanwhile. A body never read (a refusal) is skipped, so it counts too.
    const start = this.reader.frameStart;
    const traffic: Traffic = {
      in: this.reader.consumed - start + (header.body ?? 0),
      inEnd: undefined,
      out: 0,
    };
    const context = requestContext(this.contextHost, id, earlier, detach, traffic);
    const startedAt = Date.now();
    let failure: FexError | undefined;
    let cause: unknown;
    this.requests++;
    try {
      const { handler, core } = admit(this.registry, header, this.info);
      for (const hook of this.registry.hooks('onRequest')) await hook(context, header);
      // admit() checked the fields against handler.params: this is the request run() expects.
      await handler.run(core ? { ...context, server: this.server.core } : context, header as never);
      if (handler.handshake) this.greeted = true;
      if (header.type === 'leave') this.left = true;
    } catch (error) {
      failure = asAnswer(error, header.type, this.socket.destroyed);
      if (failure.code === 'E_INTERNAL' && !(error instanceof FexError)) cause = error;
      if (isStreamFatal(failure)) throw failure;
      await earlier;
      traffic.out += await this.answerError(id, failure);
    } finally {
      answered();
      this.inFlight--;
      this.lastActive = Date.now();
      // A frame that breaks the stream is the disconnect line's reason, not a request's line.
      if (!(failure && isStreamFatal(failure) && failure.code !== 'CONNECTION_LOST')) {
        const entry = requestEvent(this, header, traffic.answer, failure, cause);
        if (entry) this.services.log.event(entry);
      }
      const outcome = {
        ok: failure === undefined,
        ...(failure ? { code: failure.code } : {}),
        bytesIn: Math.max(traffic.in, (traffic.inEnd ?? this.reader.consumed) - start),
        bytesOut: traffic.out,
        durationMs: Date.now() - startedAt,
      };
      await runResponseHooks(this.registry, this.services.log, context, header, outcome);
    }
  }

  private answerError(id: number | undefined, error: FexError): Promise<number> {
    return this.writer.send(errorFrame(id, error));
  }

  /** What this connection's requests' contexts use of it (request-context.ts). */
  private get contextHost(): ContextHost {
    return (this.host ??= {
      info: this.info,
      services: this.services,
      reader: this.reader,
      writer: this.writer,
      identify: (identity) => this.identify(identity),
    });
  }

  private host: ContextHost | undefined;

  /** A change of who this connection acts as: checked by the server, then admitted. */
  private async identify(identity: Identity): Promise<{ handle: string; credential?: string }> {
    const who = await this.server.identify(this.acting, identity);
    if (who.handle !== this.acting) this.server.admitHandle?.(this, who.handle);
    this.acting = who.handle;
    return who;
  }
}
