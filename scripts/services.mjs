#!/usr/bin/env node
/**
 * The real services the tests use (docs/testing.md): Redis, and OpenStack Swift with its S3 API,
 * each on a free port of 127.0.0.1 with its state in a temporary folder, started only when
 * Debian's programs are installed. `npm test` (scripts/test.mjs) starts them once for the whole
 * suite; test/helpers/services.ts imports startRedis for tests that stop their own.
 *
 *   node scripts/services.mjs COMMAND [ARGS...]  runs COMMAND with FEX_TEST_* set, then stops them
 *   node scripts/services.mjs                    prints the exports and holds them until Ctrl-C
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Swift's tempauth user, the S3 key and secret of every test (the contract in HELPERS-BRIEF). */
export const S3_KEY = 'test:tester';
export const S3_SECRET = 'testing';
/** Swift can take up to a minute to answer on a loaded 2-core machine. */
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 15_000;

/**
 * The full path of `program`, or undefined. Debian puts haproxy in /usr/sbin, which is not on a
 * non-root user's PATH.
 */
export function findProgram(program) {
  const folders = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin'];
  for (const folder of folders.filter(Boolean)) {
    try {
      accessSync(join(folder, program), constants.X_OK);
      return join(folder, program);
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/** A port of 127.0.0.1 free right now (the service binds it a moment later). */
export async function freePort() {
  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves when `check()` resolves true; polls, since a service gives no signal of its own. */
async function waitUntil(what, check, child, log, signal) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (signal?.aborted) throw new Error('interrupted');
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode})\n${tail(log)}`);
    if (await check().catch(() => false)) return;
    await pause(100);
  }
  throw new Error(`${what} did not answer in ${START_TIMEOUT_MS / 1000} s\n${tail(log)}`);
}

/** The last lines of a log file, for an error message. */
export function tail(log, lines = 30) {
  try {
    const text = readFileSync(log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    return `--- last lines of ${log}\n${text}`;
  } catch {
    return `(no log at ${log})`;
  }
}

/** Sends `line` over TCP and resolves true when the answer starts with `expect`. */
function answers(port, line, expect) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write(line));
    socket.on('data', (chunk) => {
      got += chunk.toString();
      if (got.includes('\n')) done(got.startsWith(expect));
    });
  });
}

/**
 * A child process with its output in `log`. stop() sends SIGTERM (SIGKILL if it lingers) and
 * resolves once it has exited, so its port is free again.
 */
function launch(command, args, log, cwd) {
  const fd = openSync(log, 'a');
  const child = spawn(command, args, { cwd, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise((resolve) => {
    child.once('exit', resolve);
    child.once('error', resolve);
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    await exited;
  };
  return { child, stop };
}

/**
 * Starts redis-server on `port` (a free one if not given) with its state in `dir`: no
 * persistence unless `persist` (an append-only file synced on every write, so a restart keeps
 * what was acknowledged). Resolves once it answers PING.
 */
export async function startRedis({
  dir,
  port,
  persist = false,
  program = findProgram('redis-server'),
  signal,
}) {
  if (!program) throw new Error('redis-server is not installed (Debian package redis-server)');
  await mkdir(dir, { recursive: true });
  const chosen = port ?? (await freePort());
  const log = join(dir, 'redis.log');
  const args = ['--port', String(chosen), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
  args.push('--appendonly', persist ? 'yes' : 'no', '--appendfsync', 'always');
  const { child, stop } = launch(program, args, log, dir);
  await waitUntil('redis-server', () => answers(chosen, 'PING\r\n', '+PONG'), child, log, signal);
  return { url: `redis://127.0.0.1:${chosen}`, port: chosen, pid: child.pid, log, child, stop };
}

/** The servers of a one-replica Swift: each listens on its own port. */
const RING_KINDS = ['account', 'container', 'object'];

function serverConf(kind, port, dir) {
  return `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
devices = ${join(dir, 'devices')}
mount_check = false
swift_dir = ${join(dir, 'etc')}
workers = 0
user = ${userInfo().username}

[pipeline:main]
pipeline = healthcheck ${kind}-server

[app:${kind}-server]
use = egg:swift#${kind}

[filter:healthcheck]
use = egg:swift#healthcheck

[${kind}-replicator]
[${kind}-updater]
[${kind}-auditor]
`;
}

// s3api turns multipart uploads off without slo; tempauth holds the S3 key and secret; cache
// (memcached) is where s3api and tempauth keep tokens.
function proxyConf(port, memcachedPort, dir) {
  return `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
swift_dir = ${join(dir, 'etc')}
workers = 0
user = ${userInfo().username}

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache s3api tempauth slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:tempauth]
use = egg:swift#tempauth
user_${S3_KEY.replace(':', '_')} = ${S3_SECRET} .admin

[filter:s3api]
use = egg:swift#s3api

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:${memcachedPort}

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo
`;
}

// The rings, built by Swift's own RingBuilder in one Python process: on a busy machine each
// Python start-up costs seconds, and swift-ring-builder would take nine of them.
const RINGS_PY = `
import sys
from swift.common.ring import RingBuilder
etc = sys.argv[1]
for spec in sys.argv[2:]:
    kind, port = spec.split(':')
    builder = RingBuilder(10, 1, 1)
    builder.add_dev({'id': 0, 'region': 1, 'zone': 1, 'ip': '127.0.0.1', 'port': int(port),
                     'device': 'd1', 'weight': 100})
    builder.rebalance()
    builder.get_ring().save(f'{etc}/{kind}.ring.gz')
`;

/** Writes a one-replica ring of one device for each kind, on the Python that Swift runs on. */
function buildRings(etc, ports) {
  // swift-ring-builder's own interpreter is the one whose path holds Swift's modules.
  const shebang = readFileSync(findProgram('swift-ring-builder'), 'utf8').split('\n')[0];
  const python = shebang.replace(/^#!\s*/, '').split(/\s+/)[0];
  const specs = RING_KINDS.map((kind) => `${kind}:${ports[kind]}`);
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-c', RINGS_PY, etc, ...specs], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`building Swift's rings failed: ${output}`)),
    );
  });
}

async function httpOk(url, headers = {}) {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(5000) });
  await response.arrayBuffer();
  return response.ok ? response : undefined;
}

/** The Swift programs, or the first one missing. */
export const SWIFT_PROGRAMS = [
  'swift-proxy-server',
  'swift-account-server',
  'swift-container-server',
  'swift-object-server',
  'swift-ring-builder',
  'memcached',
];

/**
 * Starts memcached and a one-replica Swift (rings of one device, a plain folder) with s3api, its
 * state in `dir`, and resolves with the S3 endpoint once a request authenticated as the test
 * user reaches the account server through the proxy.
 */
export async function startSwift({ dir, signal }) {
  const missing = SWIFT_PROGRAMS.filter((program) => !findProgram(program));
  if (missing.length > 0) throw new Error(`not installed: ${missing.join(', ')}`);
  const etc = join(dir, 'etc');
  await mkdir(join(dir, 'devices', 'd1'), { recursive: true });
  await mkdir(etc, { recursive: true });
  const ports = {};
  for (const name of ['memcached', 'proxy', ...RING_KINDS]) ports[name] = await freePort();
  for (const kind of RING_KINDS)
    await writeFile(join(etc, `${kind}-server.conf`), serverConf(kind, ports[kind], dir));
  await buildRings(etc, ports);
  await writeFile(join(etc, 'proxy-server.conf'), proxyConf(ports.proxy, ports.memcached, dir));

  const running = [];
  const stop = async () => {
    await Promise.all(running.map((service) => service.stop()));
  };
  try {
    const memcachedLog = join(dir, 'memcached.log');
    const asRoot = process.getuid?.() === 0 ? ['-u', 'root'] : [];
    const memcached = launch(
      findProgram('memcached'),
      [...asRoot, '-l', '127.0.0.1', '-p', String(ports.memcached), '-U', '0', '-m', '64'],
      memcachedLog,
      dir,
    );
    running.push(memcached);
    for (const kind of [...RING_KINDS, 'proxy']) {
      const log = join(dir, `${kind}.log`);
      const conf = join(etc, `${kind}-server.conf`);
      const server = launch(findProgram(`swift-${kind}-server`), [conf, '--verbose'], log, dir);
      running.push({ ...server, kind, log });
    }
    await waitUntil(
      'memcached',
      () => answers(ports.memcached, 'version\r\n', 'VERSION'),
      memcached.child,
      memcachedLog,
      signal,
    );
    for (const server of running.slice(1))
      await waitUntil(
        `swift-${server.kind}-server`,
        () => httpOk(`http://127.0.0.1:${ports[server.kind]}/healthcheck`),
        server.child,
        server.log,
        signal,
      );
    const endpoint = `http://127.0.0.1:${ports.proxy}`;
    const proxy = running.at(-1);
    // Through tempauth to the account server: the whole path an S3 request takes.
    await waitUntil(
      'swift (test account)',
      async () => {
        const auth = await httpOk(`${endpoint}/auth/v1.0`, {
          'X-Storage-User': S3_KEY,
          'X-Storage-Pass': S3_SECRET,
        });
        const token = auth?.headers.get('x-auth-token');
        const url = auth?.headers.get('x-storage-url');
        return Boolean(token && url && (await httpOk(url, { 'X-Auth-Token': token })));
      },
      proxy.child,
      proxy.log,
      signal,
    );
    return { endpoint, port: ports.proxy, logs: running.map((s) => s.log ?? memcachedLog), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The optional programs whose paths the tests get (they start their own). */
const PROGRAM_VARIABLES = { FEX_TEST_HAPROXY: 'haproxy', FEX_TEST_CHROMIUM: 'chromium' };

/**
 * Starts what is installed and not already given in the environment, in parallel; resolves
 * with the variables for the tests, a line per service for the log, the log files, and stop().
 * A service that fails to start is reported and left out (the tests that need it skip, or fail
 * in CI); the others still run.
 */
export async function startServices({ environment = process.env, signal } = {}) {
  const root = await mkdtemp(join(tmpdir(), 'fex-services-'));
  const env = {};
  const report = [];
  const logs = [];
  const stops = [];
  const timed = async (name, variable, start) => {
    if (environment[variable]) {
      report.push(`${name}: ${environment[variable]} (given in ${variable})`);
      return;
    }
    const began = Date.now();
    try {
      const service = await start();
      env[variable] = service.value;
      logs.push(...service.logs);
      stops.push(service.stop);
      report.push(`${name}: ${service.value} (${((Date.now() - began) / 1000).toFixed(1)} s)`);
    } catch (error) {
      report.push(`${name}: not started: ${error.message}`);
    }
  };
  await Promise.all([
    timed('redis', 'FEX_TEST_REDIS_URL', async () => {
      const redis = await startRedis({ dir: join(root, 'redis'), signal });
      return { value: redis.url, logs: [redis.log], stop: redis.stop };
    }),
    timed('s3 (swift)', 'FEX_TEST_S3_ENDPOINT', async () => {
      const swift = await startSwift({ dir: join(root, 'swift'), signal });
      return { value: swift.endpoint, logs: swift.logs, stop: swift.stop };
    }),
  ]);
  for (const [variable, program] of Object.entries(PROGRAM_VARIABLES)) {
    const path = environment[variable] || findProgram(program);
    if (path) env[variable] = path;
    report.push(`${program}: ${path ?? 'not installed'}`);
  }
  let stopped;
  const stop = () =>
    (stopped ??= (async () => {
      await Promise.all(stops.map((each) => each()));
      await rm(root, { recursive: true, force: true });
    })());
  return { env, report, logs, stop };
}

/** Runs `command` with the services, stops them, and exits with the command's status. */
async function main(command) {
  const abort = new AbortController();
  let child;
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'])
    process.on(signal, () => {
      interrupted = true;
      abort.abort();
      child?.kill(signal);
    });
  const services = await startServices({ signal: abort.signal });
  let status = 130;
  try {
    for (const line of services.report) console.error(`# ${line}`);
    if (interrupted) return;
    if (command.length === 0) {
      for (const [key, value] of Object.entries(services.env))
        console.log(`export ${key}=${value}`);
      console.error('# services running until Ctrl-C');
      await new Promise((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
      return;
    }
    child = spawn(command[0], command.slice(1), {
      stdio: 'inherit',
      env: { ...process.env, ...services.env },
    });
    status = await new Promise((resolve) => {
      child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : 1)));
      child.on('error', (error) => {
        console.error(`Error: ${command[0]}: ${error.message}`);
        resolve(127);
      });
    });
    if (status !== 0 && !interrupted) for (const log of services.logs) console.error(tail(log, 15));
  } finally {
    await services.stop();
    process.exitCode = interrupted ? 130 : status;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href)
  await main(process.argv.slice(2));
