/**
 * `--proxy-protocol FROM`: connections from the trusted balancers in FROM start with a PROXY
 * header (proxy-header.ts), and the client it names is the connection's remote address for the
 * per-address limit, the log and plugins. Connections from anywhere else are served as they
 * come: a PROXY header from them is not believed (it is just bad input to the fex protocol).
 *
 * The header is read before anything else (before TLS: haproxy sends it ahead of the TLS bytes),
 * within the header timeout and at most MAX_PROXY_HEADER_BYTES; a trusted connection without a
 * valid one is closed, with a line in the log at a bounded rate. The balancer's own connections
 * (`PROXY UNKNOWN`, v2 `LOCAL`: its health checks) that close without sending anything are no
 * client and leave no line.
 */
import { BlockList, isIP, type Socket } from 'node:net';
import { FexError } from '../shared/errors.js';
import type { Logger } from './logger.js';
import { MAX_PROXY_HEADER_BYTES, parseProxyHeader } from './proxy-header.js';
import { RateLimitedLine } from './rate-limited-line.js';

/** At most one line about refused headers per this many milliseconds. */
export const PROXY_LOG_INTERVAL_MS = 10_000;

/** The client a connection is from: its address and port. */
export interface Peer {
  address: string;
  port: number | undefined;
}

/** `::ffff:10.0.0.1` (an IPv4 client on a dual-stack socket) is 10.0.0.1. */
const plain = (address: string) => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');

/**
 * The trusted balancers: addresses and CIDR blocks (`127.0.0.1`, `10.0.0.0/8`, `fd00::/8`),
 * separated by commas or spaces. A bad entry is a usage error naming it.
 */
export class TrustedSources {
  private readonly list = new BlockList();
  readonly entries: readonly string[];

  constructor(text: string, where = '--proxy-protocol') {
    this.entries = text.split(/[\s,]+/).filter(Boolean);
    if (this.entries.length === 0) throw badSource(where, text);
    for (const entry of this.entries) {
      const [address = '', bits, ...extra] = entry.split('/');
      const family = isIP(plain(address));
      const max = family === 4 ? 32 : 128;
      const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : -1;
      if (family === 0 || extra.length > 0 || prefix < 0 || prefix > max)
        throw badSource(where, entry);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      this.list.addSubnet(plain(address), prefix, type);
    }
  }

  has(address: string | undefined): boolean {
    if (address === undefined) return false;
    const bare = plain(address);
    const family = isIP(bare);
    return family !== 0 && this.list.check(bare, family === 4 ? 'ipv4' : 'ipv6');
  }
}

function badSource(where: string, value: string): FexError {
  return new FexError('BAD_PARAMS').withHint(
    `${where}: ${JSON.stringify(value)} is not a list of addresses or CIDR blocks, e.g. 127.0.0.1,10.0.0.0/8.`,
  );
}

/** What a trusted connection's header came to: a client, or the balancer's own connection. */
export type Arrival = { kind: 'client'; peer: Peer } | { kind: 'balancer' };

/**
 * Reads the PROXY header of trusted connections before they are served. Sockets still in their
 * header are tracked, so shutdown can drop them and a flood of them cannot grow without bound.
 */
export class ProxyProtocol {
  private readonly pending = new Set<Socket>();
  private readonly refused: RateLimitedLine;

  constructor(
    readonly trusted: TrustedSources,
    private readonly options: {
      log: Logger;
      /** Seconds to wait for the whole header. */
      timeoutSeconds: number;
      /** The most sockets reading their header at once; past it the newest are dropped. */
      maxPending: number;
    },
  ) {
    this.refused = new RateLimitedLine(options.log, 'PROXY header refused', PROXY_LOG_INTERVAL_MS);
  }

  /**
   * Calls `serve` with the socket once its header is read (the bytes after it left unread on
   * the socket), and the client it names; a socket from an untrusted address at once, as it
   * came. A trusted socket without a valid header is closed and never served.
   */
  receive(socket: Socket, serve: (socket: Socket, arrival?: Arrival) => void): void {
    // Gone before it was accepted (a quick health check): no address to trust, nothing to serve.
    if (socket.remoteAddress === undefined) return void socket.destroy();
    if (!this.trusted.has(socket.remoteAddress)) return serve(socket);
    socket.on('error', () => undefined);
    if (this.pending.size >= this.options.maxPending) {
      this.refuse(socket, 'too many connections still sending their PROXY header');
      return;
    }
    this.pending.add(socket);
    let held: Buffer = Buffer.alloc(0);
    const finish = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', finish);
      this.pending.delete(socket);
    };
    const timer = setTimeout(() => {
      finish();
      this.refuse(socket, `no PROXY header within ${this.options.timeoutSeconds} s`);
    }, this.options.timeoutSeconds * 1000);
    timer.unref();
    const onData = (chunk: Buffer) => {
      held = held.length === 0 ? chunk : Buffer.concat([held, chunk]);
      const parsed = parseProxyHeader(held);
      if (parsed.state === 'more') {
        if (held.length < MAX_PROXY_HEADER_BYTES) return;
        finish();
        return this.refuse(socket, `PROXY header over ${MAX_PROXY_HEADER_BYTES} bytes`);
      }
      finish();
      if (parsed.state === 'bad') return this.refuse(socket, parsed.reason);
      socket.pause();
      const rest = held.subarray(parsed.length);
      if (rest.length > 0) socket.unshift(rest);
      const { header } = parsed;
      if (header.kind === 'proxy')
        return serve(socket, {
          kind: 'client',
          peer: { address: header.address, port: header.port },
        });
      this.balancerOwn(socket, rest.length > 0, serve);
    };
    socket.on('data', onData);
    socket.once('close', finish);
  }

  /** Drops every socket still sending its header: the server is stopping. */
  destroyAll(): void {
    for (const socket of this.pending) socket.destroy();
    this.pending.clear();
  }

  /**
   * The balancer's own connection: a health check closes without a byte and is no client (no
   * join line, no slot); one that does speak is served as the balancer's.
   */
  private balancerOwn(
    socket: Socket,
    spoke: boolean,
    serve: (socket: Socket, arrival?: Arrival) => void,
  ): void {
    if (spoke) return serve(socket, { kind: 'balancer' });
    this.pending.add(socket);
    const timer = setTimeout(() => socket.destroy(), this.options.timeoutSeconds * 1000);
    timer.unref();
    const done = () => {
      clearTimeout(timer);
      this.pending.delete(socket);
      socket.off('readable', firstBytes);
      socket.off('close', done);
    };
    const firstBytes = () => {
      const chunk = socket.read() as Buffer | null;
      if (chunk === null) return;
      done();
      socket.pause();
      socket.unshift(chunk);
      serve(socket, { kind: 'balancer' });
    };
    socket.on('readable', firstBytes);
    socket.once('close', done);
  }

  private refuse(socket: Socket, reason: string): void {
    this.refused.note(`${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'} (${reason})`);
    socket.destroy();
  }
}
