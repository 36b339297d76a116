/** `fex serve`: start the server, say so in one line, run until SIGINT or SIGTERM, stop cleanly. */
import { readFile } from 'node:fs/promises';
import { formatServer } from '../shared/address.js';
import { resolve } from 'node:path';
import { FexError } from '../shared/errors.js';
import { mkdirDurably } from './durable-file.js';
import { streamLogger } from './logger.js';
import type { ServeOptions } from './serve-options.js';
import { loadPlugin } from './plugin-loader.js';
import { FexServer } from './server.js';
import { openStorage, storagePlace } from './storage/open-storage.js';
import { sharedState } from './state/index.js';

async function readTls(paths: { cert: string; key: string }) {
  try {
    return { cert: await readFile(paths.cert), key: await readFile(paths.key) };
  } catch (error) {
    throw new FexError('SERVE_FAILED', {
      reason: `cannot read the TLS files: ${(error as Error).message}`,
    });
  }
}

export async function runServer(options: ServeOptions): Promise<void> {
  const dir = resolve(options.dir);
  const log = streamLogger(process.stdout, process.stderr, options.logFormat);
  const plugins = [];
  for (const spec of options.plugins) plugins.push(await loadPlugin(spec, spec.base));
  try {
    await mkdirDurably(dir);
  } catch (error) {
    throw new FexError('SERVE_FAILED', {
      reason: `cannot create ${dir}: ${(error as Error).message}`,
    });
  }
  const tls = options.tls && (await readTls(options.tls));
  const { close: closeState, ...state } = await sharedState(options.state);
  // With --state, an S3 backend's file index lives in the same Redis, on the same client
  // (redisClient gives one per URL), so every server of the cluster sees one namespace.
  const redis =
    options.state === undefined
      ? undefined
      : (await import('./state/redis-client.js')).redisClient(options.state);
  const storage = await openStorage(options.storage, dir, redis, log, state.serverId);
  const server = new FexServer({
    ...state,
    ...(storage ? { storage } : {}),
    tls,
    dir,
    host: options.host,
    port: options.port,
    plugins,
    limits: options.limits,
    log,
    ...(options.proxyProtocol ? { proxyProtocol: options.proxyProtocol } : {}),
  });
  let address;
  try {
    address = await server.start();
  } catch (error) {
    await closeState();
    if (error instanceof FexError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'EADDRINUSE'
        ? `${options.host}:${options.port} is already in use`
        : code === 'EADDRNOTAVAIL'
          ? `${options.host} is not an address of this machine`
          : (error as Error).message;
    throw new FexError('SERVE_FAILED', { reason });
  }
  const where = formatServer(address);
  const place = storagePlace(options.storage, dir);
  const ready = `fex server listening on ${where}, storing files in ${place}`;
  // In JSON form the ready line is a log line too, with the address as fields of its own.
  if (options.logFormat === 'json')
    log.event({ event: 'listening', outcome: 'ok', msg: ready, address: where, dir });
  else process.stdout.write(`${ready}\n`);
  await new Promise<void>((done) => {
    const stop = (signal: string) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      log.info(`${signal}: stopping, waiting for transfers in flight`);
      void server.stop().then(async () => {
        await closeState();
        log.info('stopped');
        done();
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
