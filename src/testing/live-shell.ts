/**
 * A `fex shell` kept open and driven line by line, for tests that watch events arrive (another
 * user's upload, a plugin's message) between the lines they type. Part of the test kit.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { cleanEnv, deferCleanup, FEX_BIN } from './kit.js';

/** `User1<2023-11-06 16:48:05>: ...` becomes `User1<TIME>: ...`. */
export function maskTimes(text: string): string {
  return text.replace(/<\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}>/g, '<TIME>');
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
    deferCleanup(() => this.kill());
  }

  /** Starts `fex shell` (or `fex ...args`) as `user`, in `cwd` (the user's home unless given). */
  static start(user: { home: string }, args: string[] = ['shell'], cwd = user.home): LiveShell {
    const child = spawn(process.execPath, [FEX_BIN, ...args], {
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
