/**
 * Test harness: the real server process on port 0 in a temporary folder, and the real `fex`
 * binary in child processes, each with its own config dir. Every process started here is
 * stopped by the test's cleanup.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

/** The repository root (this file is compiled to dist/test/helpers). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = join(ROOT, 'bin', 'run.js');

/** A test server plugin of test/fixtures/plugins, by file name. */
export const pluginFixture = (name: string) => join(ROOT, 'test', 'fixtures', 'plugins', name);

const cleanups: Array<() => Promise<void>> = [];

/** Runs every registered cleanup; call from `after()` of each test file. */
export async function cleanup(): Promise<void> {
  while (cleanups.length > 0)
    await cleanups
      .pop()?.()
      .catch(() => undefined);
}

export async function tempDir(prefix = 'fex-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** An environment for a child `fex`: its own config and data dirs, no inherited FEX_ vars. */
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

export interface RunningServer {
  port: number;
  host: string;
  dir: string;
  /** `127.0.0.1:port` */
  address: string;
  process: ChildProcess;
  /** All stdout lines so far. */
  output: string[];
  /** Everything the server wrote on stderr so far. */
  stderr(): string;
  /** Resolves with the first line of the server's log (so far or to come) that matches. */
  waitForLine(pattern: RegExp): Promise<string>;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startServer(
  options: { dir?: string; args?: string[]; cwd?: string; port?: number } = {},
): Promise<RunningServer> {
  const dir = options.dir ?? join(await tempDir('fex-srv-'), 'files');
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--port', String(options.port ?? 0), '--dir', dir, ...(options.args ?? [])],
    { cwd: options.cwd ?? ROOT, env: cleanEnv(dirname(dir)), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolveExit) =>
    child.once('exit', (code) => resolveExit(code)),
  );
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<string>((resolveReady, reject) => {
    lines.on('line', (line) => {
      output.push(line);
      // With --log-format json the ready line is a JSON log line; its `msg` is the text.
      const text = line.startsWith('{')
        ? String((JSON.parse(line) as { msg?: unknown }).msg)
        : line;
      if (text.startsWith('fex server listening on ')) resolveReady(text);
    });
    void exited.then((code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
  });
  const match = /listening on (?:fexs:\/\/)?(.+):(\d+), storing files in /.exec(ready);
  const port = Number(match?.[2]);
  const host = match?.[1] ?? '127.0.0.1';
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const waitForLine = (pattern: RegExp) =>
    new Promise<string>((resolveLine) => {
      const seen = output.find((line) => pattern.test(line));
      if (seen !== undefined) return resolveLine(seen);
      const listener = (line: string) => {
        if (!pattern.test(line)) return;
        lines.off('line', listener);
        resolveLine(line);
      };
      lines.on('line', listener);
    });
  return {
    port,
    host,
    dir,
    address: `${host}:${port}`,
    process: child,
    output,
    stderr: () => stderr,
    stop,
    waitForLine,
  };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface User {
  home: string;
  /** Runs `fex ...args` as this user, in the user's own folder. */
  run(
    args: string[],
    options?: { input?: string; env?: Record<string, string>; cwd?: string },
  ): Promise<RunResult>;
}

/** A user of fex: a home folder with its own config dir, and a way to run the binary. */
export async function makeUser(): Promise<User> {
  const home = await tempDir('fex-user-');
  return {
    home,
    run: (args, options = {}) =>
      runFex(args, {
        cwd: options.cwd ?? home,
        env: cleanEnv(home, options.env),
        input: options.input,
      }),
  };
}

export function runFex(
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; input?: string },
): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
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

/** The upload line of SPEC.md, with the time left open. */
export function uploadedLine(handle: string, name: string): RegExp {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(
    `^${handle}<\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}>: Uploaded ${escaped}\\n$`,
  );
}
