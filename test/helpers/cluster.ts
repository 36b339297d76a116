/**
 * Several real `fex serve` processes behind one haproxy in TCP mode, for the cluster tests
 * (docs/testing.md): a client reaches one address, haproxy picks a live server. Servers are
 * started by the harness's startServer (the real bin/run.js on port 0); `kill9(i)` and
 * `restart(i)` act on one of them. Everything is stopped by the harness's cleanup().
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { deferCleanup } from '../../src/testing/kit.js';
import { startServer, tempDir, type RunningServer } from './harness.js';
import { freePort, missingMessage } from './services.js';

/** A backend haproxy balances over: a fex server's loopback port. */
export interface Backend {
  port: number;
  host?: string;
}

export interface Balancer {
  /** `127.0.0.1:PORT`, the one address clients use. */
  address: string;
  port: number;
  pid: number | undefined;
  /** The folder of haproxy.cfg and its log. */
  dir: string;
  /** Each backend's state as haproxy's health checks see it (`UP`, `DOWN`, ...), in order. */
  states(): Promise<string[]>;
  /** The client connections haproxy holds open to each backend now (`scur`), in order. */
  sessions(): Promise<number[]>;
  /** Resolves once haproxy's checks see backend `i` in `state` (polls its stats socket). */
  waitFor(i: number, state: 'UP' | 'DOWN'): Promise<void>;
  /** Stops haproxy (SIGTERM, a hard stop) and waits for its exit. */
  stop(): Promise<void>;
}

const SOCKET = 'admin.sock';
export interface BalancerOptions {
  /** The haproxy program; by default FEX_TEST_HAPROXY (see needService). */
  haproxy?: string;
  /** haproxy's `balance` algorithm; roundrobin by default. */
  balance?: 'roundrobin' | 'leastconn' | 'first';
  /** haproxy's check `inter` (`500ms` by default); a long one leaves failover to redispatch. */
  checkInterval?: string;
  /**
   * Write a PROXY v2 header on every connection to a server (`send-proxy-v2`), health checks
   * included (`check-send-proxy`, a LOCAL header): for servers run with --proxy-protocol.
   */
  sendProxy?: boolean;
}

/** How often haproxy checks each backend; a dead one is also skipped at once (redispatch). */
const CHECK_INTERVAL = '500ms';
/** How long waitFor() polls before it gives up: many check intervals on a loaded machine. */
const WAIT_LIMIT_MS = 60_000;

function config(dir: string, port: number, backends: Backend[], options: BalancerOptions): string {
  const servers = backends.map(
    (backend, i) => `  server s${i} ${backend.host ?? '127.0.0.1'}:${backend.port}`,
  );
  // A connection refused by a dead server is retried on another one at once (redispatch on
  // every retry), before the health checks have even noticed the death.
  return `global
  stats socket ${join(dir, SOCKET)} mode 600 level admin

defaults
  mode tcp
  timeout connect 2s
  timeout client 1h
  timeout server 1h
  timeout check 2s
  retries 3
  option redispatch 1

frontend fex
  bind 127.0.0.1:${port}
  default_backend servers

backend servers
  balance ${options.balance ?? 'roundrobin'}
  default-server check inter ${options.checkInterval ?? CHECK_INTERVAL} fall 1 rise 1${options.sendProxy ? ' send-proxy-v2 check-send-proxy' : ''}
${servers.join('\n')}
`;
}

/** Sends one command to haproxy's stats socket; its whole answer. */
function ask(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath, () => socket.end(`${command}\n`));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** A column of `show stat` for the backend's servers, in config order. */
async function serverColumn(socketPath: string, column: string): Promise<string[]> {
  const [header = '', ...rows] = (await ask(socketPath, 'show stat')).trim().split('\n');
  const columns = header.replace(/^# /, '').split(',');
  const at = (name: string) => columns.indexOf(name);
  return rows
    .map((row) => row.split(','))
    .filter((cells) => cells[at('pxname')] === 'servers' && /^s\d+$/.test(cells[at('svname')]!))
    .sort((a, b) => Number(a[at('svname')]!.slice(1)) - Number(b[at('svname')]!.slice(1)))
    .map((cells) => cells[at(column)] ?? '');
}

/** The `status` column of `show stat` for the backend's servers, in config order. */
async function serverStates(socketPath: string): Promise<string[]> {
  return (await serverColumn(socketPath, 'status')).map((status) => status.split(' ')[0]!);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * haproxy (the program at `FEX_TEST_HAPROXY`, from needService) in TCP mode on a free port of
 * 127.0.0.1, balancing over `backends` with health checks, its config in a temporary folder.
 * Resolves once haproxy answers and its checks see every backend that is listening as UP.
 */
export async function startBalancer(
  backends: Backend[],
  options: BalancerOptions = {},
): Promise<Balancer> {
  const haproxy = options.haproxy ?? process.env.FEX_TEST_HAPROXY;
  if (!haproxy) throw new Error(`startBalancer ${missingMessage('haproxy')}`);
  const dir = await tempDir('fex-haproxy-');
  const socketPath = join(dir, SOCKET);
  const log = join(dir, 'haproxy.log');
  const port = await freePort();
  await writeFile(join(dir, 'haproxy.cfg'), config(dir, port, backends, options));
  const fd = openSync(log, 'a');
  // -db: in the foreground, so the PID we hold is haproxy's own.
  const child = spawn(haproxy, ['-db', '-f', join(dir, 'haproxy.cfg')], {
    cwd: dir,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (running()) child.kill('SIGTERM');
    await exited;
  };
  deferCleanup(stop);
  const fail = async (why: string) =>
    new Error(`haproxy ${why}: ${await readFile(log, 'utf8').catch(() => '')}`);

  const waitFor = async (i: number, state: 'UP' | 'DOWN') => {
    // Each poll asks haproxy itself; the bound only turns a hang into an error that says why.
    const deadline = Date.now() + WAIT_LIMIT_MS;
    let states: string[] = [];
    while (Date.now() < deadline) {
      if (!running()) throw await fail('exited');
      states = await serverStates(socketPath).catch(() => []);
      if (states[i] === state) return;
      await pause(50);
    }
    throw await fail(`never saw backend ${i} ${state} (states: ${states.join(' ')})`);
  };
  for (const [i] of backends.entries()) await waitFor(i, 'UP');
  return {
    address: `127.0.0.1:${port}`,
    port,
    pid: child.pid,
    dir,
    states: () => serverStates(socketPath),
    sessions: async () => (await serverColumn(socketPath, 'scur')).map(Number),
    waitFor,
    stop,
  };
}

export interface Cluster {
  /** The balancer's address, `127.0.0.1:PORT`: what every client uses. */
  address: string;
  balancer: Balancer;
  /** The servers as now running (restart(i) replaces servers[i]). */
  servers: RunningServer[];
  /** Kills server `i` with SIGKILL (no clean-up of its own) and waits for its exit. */
  kill9(i: number): Promise<void>;
  /**
   * Starts server `i` again on its port, with its folder and arguments, and resolves once the
   * balancer sees it UP.
   */
  restart(i: number): Promise<RunningServer>;
}

/**
 * `servers` real `fex serve` processes (each on a port of its own, with its own --dir unless
 * serveArgs gives another storage) behind one balancer. `serveArgs` are added to each server's
 * command line; a function gets the server's index.
 */
export async function startCluster(
  options: BalancerOptions & {
    servers: number;
    serveArgs?: string[] | ((i: number) => string[]);
  },
): Promise<Cluster> {
  const argsOf = (i: number) =>
    typeof options.serveArgs === 'function' ? options.serveArgs(i) : (options.serveArgs ?? []);
  const servers = await Promise.all(
    Array.from({ length: options.servers }, (_, i) => startServer({ args: argsOf(i) })),
  );
  const balancer = await startBalancer(
    servers.map((server) => ({ port: server.port })),
    options,
  );
  return {
    address: balancer.address,
    balancer,
    servers,
    async kill9(i) {
      await servers[i]!.stop('SIGKILL');
    },
    async restart(i) {
      const old = servers[i]!;
      await old.stop();
      servers[i] = await startServer({ dir: old.dir, port: old.port, args: argsOf(i) });
      await balancer.waitFor(i, 'UP');
      return servers[i]!;
    },
  };
}
