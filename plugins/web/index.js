// @ts-check
/**
 * fex in a browser (docs/web.md): a page and an HTTP API on a port of their own, HTTPS when the
 * server serves TLS. The page is another front door, never a back door: every action is a
 * request on an in-process connection (`server.connect` of the SDK), so it meets the handler
 * table, the name rules, ownership, limits, timeouts and every plugin's hooks as a TCP client does.
 *
 * Options (the server's config file): `port` (default 8080; 0 for any free port), `host`
 * (default 127.0.0.1).
 *
 * Built only on fex's plugin SDK (the `fex` package), as a plugin outside this repository is.
 */
import { PLUGIN_API_VERSION, definePlugin } from 'fex';
import { createApp } from './lib/app.js';
import { Door } from './lib/door.js';
import { listen } from './lib/http-server.js';
import { Sessions } from './lib/sessions.js';

export const DEFAULT_PORT = 8080;

/** @param {{ port?: unknown, host?: unknown }} [options] */
export default function web(options = {}) {
  const port = options.port ?? DEFAULT_PORT;
  const host = options.host ?? '127.0.0.1';
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`port must be a whole number from 0 to 65535, not ${JSON.stringify(port)}`);
  if (typeof host !== 'string' || host.length === 0)
    throw new Error(`host must be an address such as "127.0.0.1", not ${JSON.stringify(host)}`);
  /** @type {Awaited<ReturnType<typeof listen>> | undefined} */
  let http;
  /** @type {ReturnType<typeof createApp> | undefined} */
  let app;
  return definePlugin({
    name: 'web',
    apiVersion: PLUGIN_API_VERSION,
    async setup(server) {
      const sessions = new Sessions(server.tls !== undefined);
      app = createApp({ server, door: new Door(server), sessions });
      http = await listen({ server, app: app.handle, port, host });
      server.log.info(`web page at ${http.url}`);
    },
    async teardown() {
      app?.close();
      await http?.close();
    },
  });
}
