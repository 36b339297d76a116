/**
 * Test harness: the real server process on port 0 in a temporary folder, and the real `fex`
 * binary in child processes, each with its own config dir. Every process started here is
 * stopped by the test's cleanup.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import {
  cleanEnv,
  cleanup,
  deferCleanup,
  runFex,
  tempDir,
  type RunResult,
} from '../../src/testing/kit.js';

// The test kit's own pieces, shared rather than copied: one cleanup() stops and removes what
// either made.
export { cleanEnv, cleanup, runFex, tempDir, type RunResult };

/** The repository root (this file is compiled to dist/test/helpers). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = join(ROOT, 'bin', 'run.js');

/** A test server plugin of test/fixtures/plugins, by file name. */
export const pluginFixture = (name: string) => join(ROOT, 'test', 'fixtures', 'plugins', name);

/**
 * The uploads a server is holding aside, with their sizes, sorted: resumable ones as
 * `partial/<hash>.part` (the size is the offset a resumed upload starts at), the others (a second
 * concurrent upload of the same file) as `tmp/<name>`. [] when it holds none.
 */
export async function asideUploads(
  serverDir: string,
): Promise<Array<{ name: string; size: number }>> {
  const out = [];
  for (const folder of ['partial', 'tmp']) {
    const aside = join(serverDir, '.fex', folder);
    for (const name of (await readdir(aside).catch(() => [] as string[])).sort()) {
      const info = await stat(join(aside, name)).catch(() => undefined);
      if (info) out.push({ name: `${folder}/${name}`, size: info.size });
    }
  }
  return out;
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
  options: {
    dir?: string;
    args?: string[];
    cwd?: string;
    port?: number;
    /** A command the server runs under, e.g. `['strace', '-f', '-o', file]`. */
    under?: string[];
    /** Options for Node itself, before the bin: `node ...nodeArgs bin/run.js serve`. */
    nodeArgs?: string[];
  } = {},
): Promise<RunningServer> {
  const dir = options.dir ?? join(await tempDir('fex-srv-'), 'files');
  const [command = process.execPath, ...prefix] = [...(options.under ?? []), process.execPath];
  const child = spawn(
    command,
    [
      ...prefix,
      ...(options.nodeArgs ?? []),
      BIN,
      'serve',
      ...['--port', String(options.port ?? 0), '--dir', dir, ...(options.args ?? [])],
    ],
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
  deferCleanup(async () => {
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

/** The upload line of SPEC.md, with the time left open. */
export function uploadedLine(handle: string, name: string): RegExp {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(
    `^${handle}<\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}>: Uploaded ${escaped}\\n$`,
  );
}
