/**
 * TLS handshakes in progress. A socket holds memory (about 60 KB) and a descriptor from the moment
 * it is accepted, so it takes one of `maxConnections` slots from then, not from the end of its
 * handshake. Handshakes get only the slots that established connections leave (at least one):
 * when they are all taken, the oldest handshake is dropped for the new one, because a real client
 * completes its handshake in milliseconds while a stalled one holds its slot until the timeout. A
 * handshake that fails or times out is destroyed (Node leaves the socket open when the server has
 * a `tlsClientError` listener), and failures are logged at a bounded rate.
 */
import type { Socket } from 'node:net';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import type { Logger } from './logger.js';
import { RateLimitedLine } from './rate-limited-line.js';

/** At most one line about failed handshakes per this many milliseconds. */
export const HANDSHAKE_LOG_INTERVAL_MS = 10_000;

/** `address:port` of the peer: the same on the raw socket and on the TLS socket over it. */
const peerOf = (socket: Socket) => `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;

export class TlsHandshakes {
  /** Raw sockets still in their handshake, by peer, oldest first (a Map keeps insertion order). */
  private readonly pending = new Map<string, Socket>();
  private readonly failures: RateLimitedLine;

  constructor(
    server: TlsServer,
    /** Slots not taken by established connections. */
    private readonly room: () => number,
    log: Logger,
  ) {
    this.failures = new RateLimitedLine(log, 'TLS handshake failed', HANDSHAKE_LOG_INTERVAL_MS);
    // Runs after the TLS server's own listener, which has wrapped the socket already.
    server.on('connection', (raw: Socket) => this.arrived(raw));
    server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
      socket.destroy();
      this.failures.note(error.message);
    });
  }

  /** Handshakes in progress. */
  get size(): number {
    return this.pending.size;
  }

  /** The handshake of `socket` succeeded: it is a connection now, counted as one. */
  done(socket: Socket): void {
    this.pending.delete(peerOf(socket));
  }

  /** Drops every handshake in progress: the server is stopping. */
  destroyAll(): void {
    for (const raw of this.pending.values()) raw.destroy();
    this.pending.clear();
  }

  private arrived(raw: Socket): void {
    raw.on('error', () => undefined);
    while (this.pending.size > 0 && this.pending.size >= Math.max(1, this.room())) {
      const [peer, oldest] = this.pending.entries().next().value as [string, Socket];
      this.pending.delete(peer);
      oldest.destroy();
    }
    const peer = peerOf(raw);
    this.pending.set(peer, raw);
    raw.once('close', () => {
      if (this.pending.get(peer) === raw) this.pending.delete(peer);
    });
  }
}
