/**
 * fex itself, as a user runs it: `bin/run.js serve` as a child process, and the one-shot CLI,
 * each client with its own config dir.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { cleanEnv } from '../../dist/src/testing/kit.js';
import { check, collect, exited, runTimed, start, stop } from './util.mjs';

/** An environment for a child fex: its own XDG dirs, no FEX_ variables inherited. */
export function fexEnv(home, extra = {}) {
  mkdirSync(join(home, 'config'), { recursive: true });
  return cleanEnv(home, extra);
}

let serverGraceMs = 15_000;

/** How long a stopping server may take before it is killed (a smoke run does not wait long). */
export function setServerGrace(ms) {
  serverGraceMs = ms;
}

/**
 * Starts `fex serve --port 0 --dir DIR` and resolves once it printed its ready line.
 * `nodeArgs` go to node itself (e.g. --cpu-prof); `raiseFdLimit` lifts its soft limit on open
 * files to the hard one, as an operator serving thousands of clients would; `env` is added to
 * its environment.
 */
export async function startServer({
  root,
  dir,
  home,
  nodeArgs = [],
  args = [],
  raiseFdLimit = false,
  env = {},
}) {
  const argv = [
    process.execPath,
    ...nodeArgs,
    join(root, 'bin', 'run.js'),
    'serve',
    '--port',
    '0',
    '--dir',
    dir,
    ...args,
  ];
  // Node cannot raise its own RLIMIT_NOFILE; the shell raises the soft limit to the hard one and
  // then becomes the server (exec), so the pid is the server's.
  const [command, ...rest] = raiseFdLimit
    ? ['/bin/sh', '-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', ...argv]
    : argv;
  const child = start(command, rest, {
    cwd: home,
    env: fexEnv(home, env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr = collect(child.stderr);
  const lines = createInterface({ input: child.stdout });
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('fex serve did not start in 30 s')), 30_000);
    lines.on('line', (line) => {
      if (line.startsWith('fex server listening on ')) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    void exited(child).then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`fex serve exited with ${code}: ${stderr.text.trim()}`));
    });
  });
  const match = /listening on (.+):(\d+), storing files in /.exec(ready);
  const port = Number(match?.[2]);
  return {
    child,
    pid: child.pid,
    port,
    address: `127.0.0.1:${port}`,
    dir,
    stop: () => stop(child, serverGraceMs),
  };
}

/** Runs the one-shot CLI: `node bin/run.js ...args`, timed, optionally with its peak RSS. */
export function runFex(root, args, { home, cwd, rss = false, workDir, input, outputLimit } = {}) {
  return runTimed(process.execPath, [join(root, 'bin', 'run.js'), ...args], {
    cwd: cwd ?? home,
    env: fexEnv(home),
    rss,
    workDir,
    input,
    outputLimit,
  });
}

/** Claims `handle` for the client living in `home`, so later timed commands only log in. */
export async function register(root, server, home, handle) {
  check(
    await runFex(root, ['register', handle, '--server', server.address], { home }),
    `fex register ${handle}`,
  );
}

/** True when this build has the interactive shell (`fex shell --help` exits 0). */
export async function hasShell(root, home) {
  const result = await runFex(root, ['shell', '--help'], { home });
  return result.code === 0;
}
