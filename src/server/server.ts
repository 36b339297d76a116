/**
 * The listener: accepts connections up to the limit, gives each a Connection, relays events, and
 * shuts down cleanly (stop accepting, let requests in flight finish within a bound, close).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { join } from 'node:path';
import { ByteBudget } from '../shared/byte-budget.js';
import { encodeHeader } from '../protocol/frame.js';
import { FexError } from '../shared/errors.js';
import { handleKey, RESERVED_DIR } from '../protocol/names.js';
import { Connection, type ConnectionServices, type ConnectionSocket } from './connection.js';
import { HandlerRegistry } from './handler-registry.js';
import { HandleRegistry, type HandleStore } from './handles.js';
import { DEFAULT_LIMITS } from './limits.js';
import { serverIdOf } from './server-id.js';
import { ExpirySweeper } from './expiry.js';
import { loadOperatorKey } from './operator-key.js';
import { builtinPlugin } from './handlers/index.js';
import { silentLogger, type Logger } from './logger.js';
import type { CoreServices } from './core-services.js';
import { identify } from './identify.js';
import type {
  FrontDoorOptions,
  InProcessConnection,
  Limits,
  ListOptions,
  ServerPlugin,
  ServerServices,
} from './plugin-api.js';
import { LocalStorage } from './storage/local-storage.js';
import type { Storage } from './storage/storage.js';
import { RateLimitedLine } from './rate-limited-line.js';
import { TlsHandshakes } from './tls-handshakes.js';
import { ProxyProtocol, type Peer, type TrustedSources } from './proxy-protocol.js';
import { LocalEventBus, type EventBus } from './state/event-bus.js';
import { FanOut } from './state/fan-out.js';
import { duplexPair } from './duplex-pair.js';
import { InProcessClient } from './in-process.js';

/**
 * The accept queue asked of the kernel: Node's default is 511, which 10,000 clients connecting
 * at once overflow (their SYNs are dropped and retried a second later). Linux caps it at
 * net.core.somaxconn (4096 by default), so this asks for the most and the operator's sysctl
 * decides (docs/performance.md, "Many clients").
 */
const LISTEN_BACKLOG = 65_535;

/** `address:port` of a socket's real peer: the same on a raw socket and the TLS socket over it. */
const peerKey = (socket: Socket) => `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;

/** Sockets turned away as over the limit that may be waiting for their answer at once. */
const MAX_TURNED_AWAY = 64;

export interface ServerOptions {
  dir: string;
  host?: string;
  port?: number;
  limits?: Partial<Limits>;
  plugins?: ServerPlugin[];
  storage?: Storage;
  /** The handle registry; by default a JSON file in the folder's `.fex`. */
  handles?: HandleStore;
  /** How events reach other servers' connections; by default they stay on this one. */
  events?: EventBus;
  /** The id to answer `hello` with (a cluster's, shared); by default the folder's own. */
  serverId?: () => Promise<string>;
  log?: Logger;
  /** Serve TLS with this certificate chain and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** The balancers whose connections start with a PROXY header naming the client (docs/scaling.md). */
  proxyProtocol?: TrustedSources;
  /** How long shutdown waits for requests in flight, in milliseconds. */
  shutdownGraceMs?: number;
}

export class FexServer {
  /** What plugins are given: read-only views of the files and handles. */
  readonly services: ServerServices;
  /** What the built-in handlers are given besides: the storage. */
  private readonly core: CoreServices;
  private readonly handles: HandleStore;
  private readonly events: EventBus;
  private readonly fanOut: FanOut;
  /** Connections acting as a handle, with its key, and how many each handle has here. */
  private readonly acting = new Map<Connection, string>();
  private readonly perHandle = new Map<string, number>();
  private readonly connectionServices: ConnectionServices;
  private readonly registry = new HandlerRegistry();
  private readonly connections = new Set<Connection>();
  /** Sockets turned away as over the limit, until they close. */
  private readonly turnedAway = new Set<Socket>();
  /** The log's word on connections turned away, one line per 10 s at most under a flood. */
  private readonly turnedAwayLog: RateLimitedLine;
  private readonly net: Server;
  /** TLS only: sockets accepted whose handshake is not over, counted against the limit too. */
  private readonly handshakes: TlsHandshakes | undefined;
  /** With --proxy-protocol: reads trusted balancers' headers before a socket is served. */
  private readonly proxy: ProxyProtocol | undefined;
  /** TLS behind a balancer: the client each raw socket's header named, by `address:port`. */
  private readonly proxied = new Map<string, Peer>();
  private nextId = 1;
  private identity = '';
  private operatorKey = '';
  private readonly sweeper: ExpirySweeper;

  constructor(private readonly options: ServerOptions) {
    const storage = options.storage ?? new LocalStorage(options.dir);
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    // Read when asked: the id is loaded by start(), after the services exist.
    const identity = () => this.identity;
    const handles = options.handles ?? new HandleRegistry(join(options.dir, RESERVED_DIR));
    this.handles = handles;
    this.events = options.events ?? new LocalEventBus();
    this.fanOut = new FanOut(this.connections, this.events, (time) => this.sweeper.wake(time));
    // Views, not the objects behind them: a plugin in JavaScript cannot reach past its types.
    const services: ServerServices = {
      get serverId() {
        return identity();
      },
      files: Object.freeze({
        list: (options?: ListOptions) => storage.list(options),
        read: (name: string, start?: number) => storage.read(name, start),
      }),
      handles: Object.freeze({ has: (handle: string) => handles.has(handle) }),
      log: options.log ?? silentLogger,
      limits: Object.freeze(limits),
      tls: options.tls ? Object.freeze({ ...options.tls }) : undefined,
      types: () => this.registry.types(),
      bodyTypes: () => this.registry.bodyTypes(),
      broadcast: (event, except) => this.fanOut.broadcast(event, except),
      sendTo: (handle, event) => this.fanOut.sendTo(handle, event),
      connect: (options) => this.connectInProcess(options),
      fail: (code, message, details = {}) => FexError.of(code, details, message),
    };
    this.services = Object.freeze(services);
    this.core = Object.freeze(
      Object.defineProperties({ storage }, Object.getOwnPropertyDescriptors(services)),
    ) as CoreServices;
    this.connectionServices = {
      plugin: this.services,
      core: this.core,
      identify: (current, claim) => identify(current, claim, handles, limits),
      // One bound on the event bytes queued on all connections together.
      eventBudget: new ByteBudget(limits.maxTotalQueuedEventBytes),
      admitHandle: (connection, handle) => this.admitHandle(connection, handle),
    };
    this.turnedAwayLog = new RateLimitedLine(this.services.log, 'turned away (E_BUSY)', 10_000);
    const timeoutSeconds = limits.headerTimeout || 30;
    this.proxy = options.proxyProtocol
      ? new ProxyProtocol(options.proxyProtocol, {
          log: this.services.log,
          timeoutSeconds,
          maxPending: limits.maxConnections,
        })
      : undefined;
    if (options.tls) {
      const tls = createTlsServer(
        { ...options.tls, handshakeTimeout: timeoutSeconds * 1000 },
        (socket: Socket) => this.accept(socket, this.proxied.get(peerKey(socket))),
      );
      const room = () => limits.maxConnections - this.connections.size;
      this.handshakes = new TlsHandshakes(tls, room, this.services.log);
      // The PROXY header comes before the TLS bytes: read it on the raw socket, then hand the
      // socket to the TLS server, remembering whom it is from until it closes.
      this.net = this.proxy
        ? createServer((raw) =>
            this.receive(raw, (socket, peer) => this.handToTls(tls, socket, peer)),
          )
        : tls;
    } else
      this.net = createServer((socket) => this.receive(socket, (s, peer) => this.accept(s, peer)));
    this.sweeper = new ExpirySweeper(this.core);
  }

  /** Loads plugins, opens storage, listens; resolves with the bound address. */
  async start(): Promise<{ host: string; port: number; tls: boolean }> {
    this.registry.add(
      builtinPlugin(() => this.operatorKey),
      { core: true },
    );
    for (const plugin of this.options.plugins ?? []) this.registry.add(plugin);
    this.identity = await serverIdOf(this.options.dir, this.options.serverId);
    this.operatorKey = await loadOperatorKey(join(this.options.dir, RESERVED_DIR));
    await this.core.storage.open();
    // Files that expired while the server was down go before anyone can list them.
    await this.sweeper.start();
    await this.handles.open();
    await this.events.open((event) => this.fanOut.fromElsewhere(event), this.services.log);
    for (const plugin of this.registry.plugins) await plugin.setup?.(this.services);
    await new Promise<void>((resolve, reject) => {
      this.net.once('error', reject);
      const { port = 0, host = '127.0.0.1' } = this.options;
      this.net.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
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
    this.handshakes?.destroyAll();
    this.proxy?.destroyAll();
    await Promise.all([...this.connections].map((c) => c.shutdown()));
    const grace = this.options.shutdownGraceMs ?? 10_000;
    const deadline = setTimeout(() => {
      for (const connection of this.connections) connection.destroy();
    }, grace);
    await closed;
    clearTimeout(deadline);
    await this.events.close();
    await this.sweeper.stop();
    for (const plugin of this.registry.plugins) {
      try {
        await plugin.teardown?.();
      } catch (error) {
        this.services.log.error(`plugin "${plugin.name}" failed to tear down: ${String(error)}`);
      }
    }
    await this.core.storage.close();
  }

  /** A new socket, after its PROXY header when it comes from a trusted balancer. */
  private receive(socket: Socket, then: (socket: Socket, peer?: Peer) => void): void {
    if (!this.proxy) return then(socket);
    this.proxy.receive(socket, (s, arrival) =>
      then(s, arrival?.kind === 'client' ? arrival.peer : undefined),
    );
  }

  private handToTls(tls: Server, socket: Socket, peer: Peer | undefined): void {
    if (peer) {
      const key = peerKey(socket);
      this.proxied.set(key, peer);
      socket.once('close', () => this.proxied.delete(key));
    }
    tls.emit('connection', socket);
  }

  /** `peer`: the client a trusted balancer's PROXY header named, when there was one. */
  private accept(socket: Socket, peer?: Peer): void {
    this.handshakes?.done(socket);
    const { maxConnections, maxConnectionsPerAddress } = this.services.limits;
    const address = peer?.address ?? socket.remoteAddress ?? '?';
    if (this.over(address)) {
      // Tell the client why before hanging up, so it can say so instead of "connection lost";
      // read and drop what it sends meanwhile, and give it a second to read the answer.
      // A flood of them is not answered at all, and none outlives a fixed second.
      socket.on('error', () => undefined);
      const full = this.connections.size >= maxConnections;
      this.turnedAwayLog.note(
        `${address} (${full ? `the server is full, ${maxConnections} connections` : `${maxConnectionsPerAddress} connections from that address`})`,
      );
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
    this.serveOn(socket, peer);
  }

  /** Whether one more connection from `address` would break maxConnections or the per-address bound. */
  private over(address: string): boolean {
    const { maxConnections, maxConnectionsPerAddress } = this.services.limits;
    const fromAddress = (c: Connection) => c.address === address;
    return (
      this.connections.size >= maxConnections ||
      (maxConnectionsPerAddress > 0 && this.count(fromAddress) >= maxConnectionsPerAddress)
    );
  }

  /** Serves a connection on an accepted socket, or on a front door's in-process stream. */
  private serveOn(socket: ConnectionSocket, peer?: Peer): Connection {
    const connection = new Connection(
      this.nextId++,
      socket,
      this.connectionServices,
      this.registry,
      peer,
    );
    this.connections.add(connection);
    socket.once('close', () => {
      this.connections.delete(connection);
      this.departed(connection);
    });
    void connection.serve();
    return connection;
  }

  /**
   * A plugin's front door: a connection served like an accepted socket, under the same limits
   * (a full server refuses it with E_BUSY, as it turns a socket away).
   */
  private async connectInProcess(options: FrontDoorOptions): Promise<InProcessConnection> {
    if (!this.net.listening) throw new FexError('E_SHUTTING_DOWN');
    if (this.over(options.address)) {
      this.turnedAwayLog.note(`${options.address} (in process)`);
      throw new FexError('E_BUSY');
    }
    const [serverEnd, pluginEnd] = duplexPair(options.address, options.port);
    const connection = this.serveOn(serverEnd);
    const client = new InProcessClient(pluginEnd, connection.remote);
    await client.greet(options.client ?? 'in-process');
    return client;
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
    const key = handleKey(handle);
    const same = (c: Connection) =>
      c !== connection && c.handle !== undefined && handleKey(c.handle) === key;
    if (max > 0 && this.count(same) >= max && !this.shedOldest(same)) throw new FexError('E_BUSY');
    // The connection acts as the handle from here on (identify sets it right after).
    this.acting.set(connection, key);
    this.countPresence(key, 1);
  }

  private departed(connection: Connection): void {
    const key = this.acting.get(connection);
    if (key === undefined) return;
    this.acting.delete(connection);
    this.countPresence(key, -1);
  }

  /** Keeps the count of a handle's connections here, and tells the other servers. */
  private countPresence(key: string, change: number): void {
    const count = (this.perHandle.get(key) ?? 0) + change;
    if (count > 0) this.perHandle.set(key, count);
    else this.perHandle.delete(key);
    this.events.present(key, count);
  }
}
