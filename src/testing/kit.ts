/**
 * The test kit for plugins (`fex/testing`): the real `fex serve` with the plugin under test, on
 * port 0 in a temporary folder, and users running the real `fex` binary with the plugin's
 * commands linked in, each with their own config folder. Call `cleanup()` in `after()`: it stops
 * every server and removes every folder the kit made.
 */
import { spawn } from 'node:child_process';
import { remove } from 'fs-extra/esm';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** This fex's own binary (this file is dist/src/testing/kit.js). */
export const FEX_BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/run.js');

const cleanups: Array<() => Promise<void>> = [];

/** Has `cleanup()` run `task` (last registered, first run). */
export function deferCleanup(task: () => Promise<void>): void {
  cleanups.push(task);
}

/** Stops every server and removes every folder the kit made so far. */
export async function cleanup(): Promise<void> {
  while (cleanups.length > 0)
    await cleanups
      .pop()?.()
      .catch(() => undefined);
}

/** A new empty folder, removed by `cleanup()`. */
export async function tempDir(prefix = 'fex-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(() => remove(dir));
  return dir;
}

/** An environment for a child `fex`: its own config and data folders, no inherited FEX_ vars. */
export function cleanEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!key.startsWith('FEX_') && !key.startsWith('XDG_') && !key.startsWith('NODE_TEST'))
      env[key] = value;
  return {
    ...env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_DATA_HOME: join(home, 'data'),
    XDG_CACHE_HOME: join(home, 'cache'),
    NO_COLOR: '1',
    ...extra,
  };
}

export interface RunResult {
  /** The exit status. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the `fex` binary `bin` with `args`, feeding it `input`, until it exits. */
export function runFex(
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; input?: string; bin?: string },
): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [options.bin ?? FEX_BIN, ...args], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** A server plugin to load: a path (a file or a package folder) or a package name. */
export type PluginUnderTest = string | { module: string; options?: Record<string, unknown> };

export interface TestServer {
  /** `127.0.0.1:<port>`, for `--server`. */
  address: string;
  host: string;
  port: number;
  /** The folder of the stored files. */
  dir: string;
  /** The server's log lines so far. */
  log: string[];
  /** Stops the server (SIGTERM: requests in flight finish, plugins tear down); its exit status. */
  stop(): Promise<number | null>;
}

const absolute = (spec: string) =>
  isAbsolute(spec) || spec.startsWith('.') ? resolve(spec) : spec;

/**
 * Starts the real `fex serve` on a free port of 127.0.0.1 with `plugins` loaded (paths relative
 * to the current folder), as `fex serve --config` would load them. Rejects with the server's own
 * start-up error if a plugin cannot be used.
 */
export async function startServer(
  options: { plugins?: PluginUnderTest[]; limits?: Record<string, unknown> } = {},
): Promise<TestServer> {
  const home = await tempDir('fex-test-server-');
  const dir = join(home, 'files');
  const config = join(home, 'fex.config.json');
  const plugins = (options.plugins ?? []).map((plugin) =>
    typeof plugin === 'string'
      ? absolute(plugin)
      : { module: absolute(plugin.module), options: plugin.options ?? {} },
  );
  await writeFile(
    config,
    JSON.stringify({ plugins, ...(options.limits && { limits: options.limits }) }),
  );
  const child = spawn(
    process.execPath,
    [FEX_BIN, 'serve', '--port', '0', '--dir', dir, '--config', config],
    { cwd: home, env: cleanEnv(home), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const log: string[] = [];
  const ready = await new Promise<string>((resolveReady, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      log.push(line);
      if (line.startsWith('fex server listening on ')) resolveReady(line);
    });
    void exited.then((code) => reject(new Error(stderr.trim() || `fex serve exited with ${code}`)));
  });
  const [, host = '127.0.0.1', port = '0'] =
    /on (?:fexs:\/\/)?(.+):(\d+), storing/.exec(ready) ?? [];
  return {
    address: `${host}:${port}`,
    host,
    port: Number(port),
    dir,
    log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export interface TestUser {
  /** The user's home folder, where `run` runs, with the user's own fex config. */
  home: string;
  /** Runs `fex ...args` as this user. */
  run(
    args: string[],
    options?: { input?: string; env?: Record<string, string> },
  ): Promise<RunResult>;
}

/**
 * A user of the real `fex` binary, in a home folder of their own, with the client half of each
 * plugin folder in `link` linked in (`fex plugins link`), so its commands work one-shot and in
 * the shell (`run(['shell'], { input: '/greet\n/exit\n' })`, or `LiveShell.start(user)` to type
 * line by line and watch events arrive).
 */
export async function newUser(options: { link?: string[] } = {}): Promise<TestUser> {
  const home = await tempDir('fex-test-user-');
  const run: TestUser['run'] = (args, { input, env } = {}) =>
    runFex(args, { cwd: home, env: cleanEnv(home, env), input });
  for (const folder of options.link ?? []) {
    const linked = await run(['plugins', 'link', resolve(folder), '--no-install']);
    if (linked.code !== 0) throw new Error(`fex plugins link ${folder} failed: ${linked.stderr}`);
  }
  return { home, run };
}
