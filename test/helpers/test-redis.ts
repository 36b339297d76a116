/**
 * The Redis the tests share, found through FEX_TEST_REDIS_URL (`redis://127.0.0.1:PORT`). Absent
 * locally, the tests that need it are skipped with this message; absent in CI (`CI=true`), they
 * fail. Every test keeps to a key prefix of its own (`uniquePrefix()`), so tests running at once
 * never see each other's keys. (To be replaced by test/helpers/services.ts's needService.)
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { deferCleanup, tempDir } from '../../src/testing/kit.js';

const MISSING =
  'FEX_TEST_REDIS_URL is not set: start a redis-server (redis-server --port 6390 --save "") and set FEX_TEST_REDIS_URL=redis://127.0.0.1:6390';

/** The Redis URL, or undefined with the reason a test should skip; throws in CI. */
export function testRedis(): { url: string; skip?: undefined } | { url?: undefined; skip: string } {
  const url = process.env.FEX_TEST_REDIS_URL;
  if (url) return { url: url.replace(/\/+$/, '') };
  if (process.env.CI === 'true') throw new Error(`${MISSING} (required in CI)`);
  return { skip: MISSING };
}

/** A key prefix no other test uses. */
export function uniquePrefix(what = 'test'): string {
  return `fex-test:${what}:${randomBytes(6).toString('hex')}:`;
}

/** The `--state` URL of `base` with a prefix of its own. */
export function stateUrl(base: string, prefix = uniquePrefix()): string {
  return `${base}/0?prefix=${prefix}`;
}

/** A redis-server of a test's own (to stop and start again), on `port` or a free one. */
export interface OwnRedis {
  port: number;
  url: string;
  /** Stops it (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts `redis-server` (no persistence) and resolves once it accepts connections. */
export async function startOwnRedis(port?: number): Promise<OwnRedis> {
  const chosen = port ?? (await freePort());
  const child = spawn(
    process.env.FEX_TEST_REDIS_SERVER ?? 'redis-server',
    ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  deferCleanup(stop);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    });
    child.once('error', reject);
    void exited.then(() => reject(new Error(`redis-server exited: ${output}`)));
  });
  return { port: chosen, url: `redis://127.0.0.1:${chosen}`, stop };
}

/** The haproxy binary for the balancer tests, or why they skip; throws in CI without it. */
export function testHaproxy():
  { path: string; skip?: undefined } | { path?: undefined; skip: string } {
  const path = process.env.FEX_TEST_HAPROXY;
  if (path) return { path };
  const missing = 'FEX_TEST_HAPROXY is not set: give the path of haproxy (e.g. /usr/sbin/haproxy)';
  if (process.env.CI === 'true') throw new Error(`${missing} (required in CI)`);
  return { skip: missing };
}

/** haproxy in TCP mode on a free port of 127.0.0.1, sending connections to `ports` in turn. */
export async function startBalancer(path: string, ports: number[]): Promise<{ address: string }> {
  const port = await freePort();
  const dir = await tempDir('fex-haproxy-');
  const config = join(dir, 'haproxy.cfg');
  await writeFile(
    config,
    [
      'defaults',
      '  mode tcp',
      '  timeout connect 5s',
      '  timeout client 1h',
      '  timeout server 1h',
      'frontend fex',
      `  bind 127.0.0.1:${port}`,
      '  default_backend servers',
      'backend servers',
      '  balance roundrobin',
      ...ports.map((p, i) => `  server s${i} 127.0.0.1:${p}`),
      '',
    ].join('\n'),
  );
  const child = spawn(path, ['-f', config, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  deferCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  // Ready once it accepts a connection on its port.
  for (;;) {
    if (child.exitCode !== null) throw new Error(`haproxy exited: ${stderr}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return { address: `127.0.0.1:${port}` };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
