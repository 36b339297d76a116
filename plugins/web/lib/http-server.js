// @ts-check
/**
 * The page's HTTP(S) server, under the fex server's own limits: at most `maxConnections` sockets
 * and `maxConnectionsPerAddress` from one address (more are told the server is full, in the CLI's
 * words), headers within `headerTimeout`, a socket silent for `transferTimeout` closed.
 */
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';

const FULL = 'The server is full. Please try again later.';

/**
 * @param {object} options
 * @param {import('fex').ServerServices} options.server
 * @param {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => Promise<void>} options.app
 * @param {number} options.port
 * @param {string} options.host
 */
export async function listen({ server, app, port, host }) {
  const { limits, tls } = server;
  /** @type {import('node:http').RequestListener} */
  const handle = (req, res) => void app(req, res);
  // Node checks header and request timeouts this often (30 s by default, longer than a short
  // headerTimeout): within half the header timeout, so a slow header is cut off in time.
  const checks = { connectionsCheckingInterval: Math.max(250, (limits.headerTimeout || 60) * 500) };
  const http = tls
    ? createHttpsServer({ ...checks, cert: tls.cert, key: tls.key }, handle)
    : createServer(checks, handle);
  http.headersTimeout = (limits.headerTimeout || 60) * 1000;
  http.requestTimeout = 0;
  http.keepAliveTimeout = 5000;
  http.timeout = limits.transferTimeout * 1000;
  /** @type {Map<string, number>} */
  const perAddress = new Map();
  /** @type {Set<import('node:net').Socket>} */
  const sockets = new Set();
  const event = tls ? 'secureConnection' : 'connection';
  http.on(event, (/** @type {import('node:net').Socket} */ socket) => {
    const address = socket.remoteAddress ?? '?';
    const fromThere = perAddress.get(address) ?? 0;
    const { maxConnections, maxConnectionsPerAddress } = limits;
    if (
      sockets.size >= maxConnections ||
      (maxConnectionsPerAddress > 0 && fromThere >= maxConnectionsPerAddress)
    ) {
      socket.on('error', () => undefined);
      server.log.event({
        event: 'join',
        outcome: 'refused',
        msg: `web: ${address} turned away (E_BUSY)`,
      });
      socket.end(
        `HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(FULL)}\r\nConnection: close\r\n\r\n${FULL}`,
      );
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    sockets.add(socket);
    perAddress.set(address, fromThere + 1);
    socket.once('close', () => {
      sockets.delete(socket);
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left === 0) perAddress.delete(address);
      else perAddress.set(address, left);
    });
  });
  await new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen({ port, host }, () => resolve(undefined));
  });
  const address = /** @type {import('node:net').AddressInfo} */ (http.address());
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${tls ? 'https' : 'http'}://${shown}:${address.port}/`,
    port: address.port,
    async close() {
      const closed = new Promise((resolve) => http.close(() => resolve(undefined)));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
