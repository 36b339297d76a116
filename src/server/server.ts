/**
 * The listener: accepts connections up to the limit, gives each a Connection, relays events, and
 * shuts down cleanly (stop accepting, let requests in flight finish within a bound, close).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { join } from 'node:path';
import { ByteBudget } from '../protocol/byte-budget.js';
import { encodeHeader } from '../protocol/frame.js';
import { FexError } from '../protocol/errors.js';
import { handleKey, RESERVED_DIR } from '../protocol/names.js';
import { Connection, type ConnectionHost } from './connection.js';
import { HandlerRegistry } from './handler-registry.js';
import { HandleRegistry } from './handles.js';
import { DEFAULT_LIMITS } from './limits.js';
import { loadServerId } from './server-id.js';
import { builtinPlugin } from './handlers/index.js';
import { silentLogger, type Logger } from './logger.js';
import type { ConnectionInfo, Limits, ServerPlugin, ServerServices } from './plugin-api.js';
import { LocalStorage } from './storage/local-storage.js';
import type { Storage } from './storage/storage.js';

/** Sockets turned away as over the limit that may be waiting for their answer at once. */
const MAX_TURNED_AWAY = 64;

export interface ServerOptions {
  dir: string;
  host?: string;
  port?: number;
  limits?: Partial<Limits>;
  plugins?: ServerPlugin[];
  storage?: Storage;
  log?: Logger;
  /** Serve TLS with this certificate chain and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** How long shutdown waits for requests in flight, in milliseconds. */
  shutdownGraceMs?: number;
}

export class FexServer {
  readonly services: ServerServices;
  private readonly registry = new HandlerRegistry();
  private readonly connections = new Set<Connection>();
  /** Sockets turned away as over the limit, until they close. */
  private readonly turnedAway = new Set<Socket>();
  private readonly net: Server;
  private nextId = 1;
  private identity = '';
  /** What every connection is lent: the shared bound on queued events, the handle check. */
  private readonly host: ConnectionHost;

  constructor(private readonly options: ServerOptions) {
    const storage = options.storage ?? new LocalStorage(options.dir);
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    // Read when asked: the id is loaded by start(), after the services exist.
    const identity = () => this.identity;
    this.services = {
      get serverId() {
        return identity();
      },
      storage,
      handles: new HandleRegistry(join(options.dir, RESERVED_DIR)),
      log: options.log ?? silentLogger,
      limits,
      types: () => this.registry.types(),
      bodyTypes: () => this.registry.bodyTypes(),
      broadcast: (event, except) => this.broadcast(event, except),
      sendTo: (handle, event) => this.sendTo(handle, event),
      fail: (code, message, details = {}) => new FexError(code, details, message),
    };
    this.host = {
      eventBudget: new ByteBudget(limits.maxTotalQueuedEventBytes),
      admitHandle: (connection, handle) => this.admitHandle(connection, handle),
    };
    const accept = (socket: Socket) => this.accept(socket);
    this.net = options.tls
      ? createTlsServer(
          { ...options.tls, handshakeTimeout: (limits.headerTimeout || 30) * 1000 },
          accept,
        )
      : createServer(accept);
    // A client that fails its TLS handshake is its own problem, not the server's.
    this.net.on('tlsClientError', (error: Error) =>
      this.services.log.info(`TLS handshake failed: ${error.message}`),
    );
  }

  /** Loads plugins, opens storage, listens; resolves with the bound address. */
  async start(): Promise<{ host: string; port: number; tls: boolean }> {
    this.registry.add(builtinPlugin);
    for (const plugin of this.options.plugins ?? []) this.registry.add(plugin);
    this.identity = await loadServerId(join(this.options.dir, RESERVED_DIR));
    await this.services.storage.open();
    await this.services.handles.open();
    for (const plugin of this.registry.plugins) await plugin.setup?.(this.services);
    await new Promise<void>((resolve, reject) => {
      this.net.once('error', reject);
      this.net.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => {
        this.net.off('error', reject);
        resolve();
      });
    });
    const address = this.net.address();
    if (address === null || typeof address === 'string') throw new Error('not listening on TCP');
    return { host: address.address, port: address.port, tls: Boolean(this.options.tls) };
  }

  /** Stops accepting, lets requests in flight finish within the grace period, then closes. */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.net.close(() => resolve()));
    for (const socket of this.turnedAway) socket.destroy();
    await Promise.all([...this.connections].map((c) => c.shutdown()));
    const grace = this.options.shutdownGraceMs ?? 10_000;
    const deadline = setTimeout(() => {
      for (const connection of this.connections) connection.destroy();
    }, grace);
    await closed;
    clearTimeout(deadline);
    for (const plugin of this.registry.plugins) {
      try {
        await plugin.teardown?.();
      } catch (error) {
        this.services.log.error(`plugin "${plugin.name}" failed to tear down: ${String(error)}`);
      }
    }
    await this.services.storage.close();
  }

  private accept(socket: Socket): void {
    const { maxConnections, maxConnectionsPerAddress } = this.services.limits;
    const address = socket.remoteAddress ?? '?';
    const fromAddress = (c: Connection) => c.address === address;
    if (
      this.connections.size >= maxConnections ||
      (maxConnectionsPerAddress > 0 && this.count(fromAddress) >= maxConnectionsPerAddress)
    ) {
      // Tell the client why before hanging up, so it can say so instead of "connection lost";
      // read and drop what it sends meanwhile, and give it a second to read the answer.
      // A flood of them is not answered at all, and none outlives a fixed second.
      socket.on('error', () => undefined);
      if (this.turnedAway.size >= MAX_TURNED_AWAY) {
        socket.destroy();
        return;
      }
      this.turnedAway.add(socket);
      socket.once('close', () => this.turnedAway.delete(socket));
      socket.resume();
      setTimeout(() => socket.destroy(), 1000).unref();
      socket.end(encodeHeader({ type: 'error', code: 'E_BUSY', message: 'The server is full.' }));
      return;
    }
    const connection = new Connection(
      this.nextId++,
      socket,
      this.services,
      this.registry,
      this.host,
    );
    this.connections.add(connection);
    socket.once('close', () => this.connections.delete(connection));
    void connection.serve();
  }

  private count(which: (connection: Connection) => boolean): number {
    let n = 0;
    for (const connection of this.connections) if (which(connection)) n++;
    return n;
  }

  /** Sheds the oldest idle connection that `which` picks; false if there is none. */
  private shedOldest(which: (connection: Connection) => boolean): boolean {
    let oldest: Connection | undefined;
    for (const c of this.connections)
      if (c.idle && which(c) && (!oldest || c.lastActive < oldest.lastActive)) oldest = c;
    if (!oldest) return false;
    this.services.log.info(`connection ${oldest.remote} shed to make room`);
    this.connections.delete(oldest);
    oldest.shed();
    return true;
  }

  /**
   * One handle holds at most maxConnectionsPerHandle connections: a new one sheds that handle's
   * oldest idle connection, and is refused (E_BUSY) if every one of them is busy.
   */
  private admitHandle(connection: Connection, handle: string): void {
    const max = this.services.limits.maxConnectionsPerHandle;
    if (max === 0) return;
    const key = handleKey(handle);
    const same = (c: Connection) =>
      c !== connection && c.handle !== undefined && handleKey(c.handle) === key;
    if (this.count(same) < max) return;
    if (!this.shedOldest(same)) throw new FexError('E_BUSY');
  }

  private sendTo(handle: string, event: Record<string, unknown>): number {
    const key = handleKey(handle);
    return this.fanOut(event, (c) => c.handle !== undefined && handleKey(c.handle) === key);
  }

  private broadcast(event: Record<string, unknown>, except?: ConnectionInfo): void {
    this.fanOut(event, (c) => c !== except && c.handle !== undefined);
  }

  /** Encodes an event once and queues the same bytes on every connection picked. */
  private fanOut(event: Record<string, unknown>, which: (c: Connection) => boolean): number {
    const frame = encodeHeader({ type: 'event', ...event });
    let sent = 0;
    for (const connection of this.connections)
      if (which(connection) && connection.queueEvent(frame) !== 'closed') sent++;
    return sent;
  }
}
