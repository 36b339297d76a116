/**
 * What the shell tests share beyond the harness: a shell's whole output as one transcript (stdout
 * and stderr in the order they were written), a shell kept open and driven line by line, and the
 * upload line's time masked so whole outputs can be compared exactly.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BIN, cleanEnv, tempDir, type User } from '../helpers/harness.js';

/** `User1<2023-11-06 16:48:05>: ...` becomes `User1<TIME>: ...`. */
export function maskTimes(text: string): string {
  return text.replace(/<\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}>/g, '<TIME>');
}

/** A port nothing listens on: one the system just handed out and took back. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface Transcript {
  code: number | null;
  /** stdout and stderr interleaved exactly as written, times masked. */
  output: string;
}

/**
 * Runs `fex ...args` as `user` with `input` on stdin, stdout and stderr both going to one file:
 * the file's order is the order of the writes, so this also checks that each line's output is
 * out before the next line's.
 */
export async function transcript(user: User, args: string[], input: string): Promise<Transcript> {
  const file = join(await tempDir('fex-out-'), 'transcript');
  const out = await open(file, 'w');
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        cwd: user.home,
        env: cleanEnv(user.home),
        stdio: ['pipe', out.fd, out.fd],
      });
      child.on('error', reject);
      child.on('close', resolve);
      child.stdin?.end(input);
    });
    return { code, output: maskTimes(await readFile(file, 'utf8')) };
  } finally {
    await out.close();
  }
}

const running = new Set<LiveShell>();

/** Ends every shell still open; call from `after()`. */
export async function stopShells(): Promise<void> {
  await Promise.all([...running].map((shell) => shell.kill()));
}

/**
 * A `fex shell` kept open through pipes, as another program would drive it: write a line, then
 * wait for the lines it prints (stdout and stderr alike, in arrival order).
 */
export class LiveShell {
  private readonly lines: string[] = [];
  private waiting: ((line: string | undefined) => void) | undefined;
  private closedStreams = 0;
  private readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    // Input written after the shell has ended is simply lost.
    child.stdin.on('error', () => undefined);
    for (const stream of [child.stdout, child.stderr])
      createInterface({ input: stream })
        .on('line', (line) => this.push(maskTimes(line)))
        .on('close', () => {
          if (++this.closedStreams === 2) this.push(undefined);
        });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    running.add(this);
  }

  /** A shell of `user`, started in `cwd` (the user's home unless given). */
  static start(user: User, args: string[] = ['shell'], cwd = user.home): LiveShell {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: cleanEnv(user.home),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new LiveShell(child);
  }

  send(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** The next line printed; undefined once the shell has closed its output. */
  next(): Promise<string | undefined> {
    if (this.lines.length > 0) return Promise.resolve(this.lines.shift());
    if (this.closedStreams === 2) return Promise.resolve(undefined);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  /** Sends `line` and resolves with the `count` lines it prints. */
  async run(line: string, count = 1): Promise<(string | undefined)[]> {
    this.send(line);
    const printed: (string | undefined)[] = [];
    for (let i = 0; i < count; i++) printed.push(await this.next());
    return printed;
  }

  /** Ends the input (Ctrl-D) and resolves with the exit status. */
  async end(): Promise<number | null> {
    this.child.stdin.end();
    const code = await this.exited;
    running.delete(this);
    return code;
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
    running.delete(this);
  }

  private push(line: string | undefined): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) waiting(line);
    else if (line !== undefined) this.lines.push(line);
  }
}
