/**
 * The shell in a real terminal: tmux runs the REAL `fex` in a pseudo-terminal, the test types
 * keys and reads the screen. Prompt, Tab completion, live uploads while a line is being typed,
 * Ctrl-C, Ctrl-D and history across runs. Skipped where tmux is not installed.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdir, open, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import {
  BIN,
  cleanEnv,
  cleanup,
  makeUser,
  startServer,
  tempDir,
  type RunningServer,
  type User,
} from '../helpers/harness.js';
import { HoldingProxy } from '../helpers/holding-proxy.js';

const HAS_TMUX = spawnSync('tmux', ['-V']).status === 0;
const SKIP = HAS_TMUX ? false : 'tmux is not installed (apt-get install -y tmux to run this test)';
const LIMIT = { timeout: 60_000 };
/** How long the screen may take to show what is expected before the test fails. */
const PATIENCE_MS = 20_000;

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** One tmux server of our own (its own socket), with `fex` running in a session. */
class Terminal {
  private constructor(
    private readonly socket: string,
    private readonly session: string,
  ) {}

  /** Runs `fex ...args` (the shell when none) in the user's folder. */
  static async start(
    user: User,
    socket: string,
    session: string,
    args: string[] = [],
  ): Promise<Terminal> {
    // After fex ends, say how, and keep the pane open (cat waits on the terminal) to be read.
    const fex = [process.execPath, BIN, ...args].map(quote).join(' ');
    const command = `${fex}; echo "[exited $?]"; exec cat`;
    const terminal = new Terminal(socket, session);
    await terminal.tmux(
      ['new-session', '-d', '-s', session, '-x', '150', '-y', '50', '-c', user.home, command],
      cleanEnv(user.home),
    );
    return terminal;
  }

  /** Types text exactly as given. */
  type(text: string): Promise<string> {
    return this.tmux(['send-keys', '-t', this.session, '-l', text]);
  }

  /** Presses keys by tmux's names: Tab, Enter, Up, C-c, C-d. */
  press(...keys: string[]): Promise<string> {
    return this.tmux(['send-keys', '-t', this.session, ...keys]);
  }

  screen(): Promise<string> {
    return this.tmux(['capture-pane', '-p', '-t', this.session]);
  }

  /** Waits until the screen satisfies `check`; fails with the screen if it never does. */
  async waitFor(what: string, check: (lines: string[]) => boolean): Promise<string[]> {
    const deadline = Date.now() + PATIENCE_MS;
    for (;;) {
      const lines = (await this.screen()).split('\n').map((line) => line.trimEnd());
      while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
      if (check(lines)) return lines;
      if (Date.now() > deadline) assert.fail(`screen never showed ${what}:\n${lines.join('\n')}`);
      // Polling the screen for a condition, not waiting for a guessed time.
      await delay(50);
    }
  }

  /** Waits until the cursor line reads `text`. */
  waitForLast(text: string): Promise<string[]> {
    return this.waitFor(JSON.stringify(text), (lines) => lines[lines.length - 1] === text);
  }

  waitForLine(pattern: RegExp): Promise<string[]> {
    return this.waitFor(String(pattern), (lines) => lines.some((line) => pattern.test(line)));
  }

  private tmux(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
    return new Promise((resolve, reject) =>
      execFile('tmux', ['-S', this.socket, '-f', '/dev/null', ...args], { env }, (error, out) =>
        error ? reject(error) : resolve(out),
      ),
    );
  }

  static kill(socket: string): void {
    spawnSync('tmux', ['-S', socket, 'kill-server']);
  }
}

describe('the shell in a terminal', { skip: SKIP }, () => {
  let server: RunningServer;
  let user: User;
  let socket: string;
  let prompt: string;

  before(async () => {
    server = await startServer();
    user = await makeUser();
    socket = join(await tempDir('fex-tmux-'), 'tmux.sock');
    prompt = `User1@127.0.0.1:${server.port}>`;
    await writeFile(join(user.home, 'my file.txt'), 'typed in a terminal\n');
  });
  after(async () => {
    Terminal.kill(socket);
    await cleanup();
  });

  it(
    'shows where it is, completes, and keeps the line typed while an upload is announced',
    LIMIT,
    async () => {
      const term = await Terminal.start(user, socket, 'first');
      await term.waitForLast('fex>');

      await term.type('/jo');
      await term.press('Tab');
      await term.waitForLast('fex> /join');
      await term.type(`127.0.0.1 ${server.port}`);
      await term.press('Enter');
      await term.waitForLast(`fex 127.0.0.1:${server.port}>`);

      await term.type('/register User1');
      await term.press('Enter');
      await term.waitForLast(prompt);

      await term.type('/store my');
      await term.press('Tab');
      await term.waitForLast(`${prompt} /store my\\ file.txt`);
      await term.press('Enter');
      await term.waitForLine(/^User1<[\d :-]+>: Uploaded my file\.txt$/);
      await term.waitForLast(prompt);

      // Server names for /get, from a listing of the session.
      await term.type('/get m');
      await term.press('Tab');
      await term.waitForLast(`${prompt} /get my\\ file.txt`);
      // Ctrl-C at the prompt clears the line and keeps the shell.
      await term.press('C-c');
      await term.waitForLast(prompt);

      await term.type('/di');
      const bob = await makeUser();
      await writeFile(join(bob.home, 'Bob.bin'), 'bob');
      const stored = await bob.run([
        'store',
        'Bob.bin',
        '--server',
        server.address,
        '--handle',
        'Bob',
      ]);
      assert.equal(stored.code, 0);
      const lines = await term.waitForLine(/^Bob<[\d :-]+>: Uploaded Bob\.bin$/);
      await term.waitForLast(`${prompt} /di`);
      assert.equal(lines.filter((line) => line.includes('Uploaded Bob.bin')).length, 1);

      await term.type('r');
      await term.press('Enter');
      const listing = await term.waitFor(
        'the listing',
        (l) => l.slice(-4).join('|') === `Server Directory|Bob.bin|my file.txt|${prompt}`,
      );
      assert.ok(listing);

      await term.type('/exit');
      await term.press('Enter');
      await term.waitForLast('[exited 0]');
    },
  );

  it('remembers the lines of the last run, in oclif’s data dir', LIMIT, async () => {
    const history = await readFile(join(user.home, 'data', 'fex', 'shell-history'), 'utf8');
    assert.equal(
      history,
      [
        `/join 127.0.0.1 ${server.port}`,
        '/register User1',
        '/store my\\ file.txt',
        '/dir',
        '/exit',
        '',
      ].join('\n'),
    );
    const term = await Terminal.start(user, socket, 'second');
    await term.waitForLast('fex>');
    await term.press('Up');
    await term.waitForLast('fex> /exit');
    await term.press('Up');
    await term.waitForLast('fex> /dir');
    await term.press('C-c');
    await term.waitForLast('fex>');
    // Ctrl-D on an empty line ends the shell.
    await term.press('C-d');
    await term.waitForLast('[exited 0]');
  });

  it('cancels a transfer on Ctrl-C and keeps the shell', LIMIT, async () => {
    // A sparse file: big enough that the upload is still running when Ctrl-C arrives.
    const big = await open(join(user.home, 'big.bin'), 'w');
    await big.truncate(8 * 1024 ** 3);
    await big.close();
    const term = await Terminal.start(user, socket, 'third');
    await term.waitForLast('fex>');
    await term.type(`/join 127.0.0.1 ${server.port}`);
    await term.press('Enter');
    // User1 was registered by this account's first shell: a later shell logs in as it.
    await term.type('/login User1');
    await term.press('Enter');
    await term.waitForLast(prompt);
    await term.type('/store big.bin');
    await term.press('Enter');
    await term.waitForLine(/^Uploading big\.bin \d+%/);
    await term.press('C-c');
    await term.waitForLine(
      /^Error: Upload cancelled\. The connection was closed; \/join to connect again\.$/,
    );
    await term.waitForLast('fex>');
    assert.ok(!(await readdir(server.dir)).includes('big.bin'), 'nothing partial is visible');

    await term.type(`/join 127.0.0.1 ${server.port}`);
    await term.press('Enter');
    await term.waitForLast(`fex 127.0.0.1:${server.port}>`);
    // A line failed, but a person ending the shell gets 0 (issue 12): 1 is for piped runs.
    await term.press('C-d');
    await term.waitForLast('[exited 0]');
  });

  it('exits 0 on /exit after a failed line', LIMIT, async () => {
    const term = await Terminal.start(user, socket, 'failing');
    await term.waitForLast('fex>');
    await term.type('/get Missing.txt');
    await term.press('Enter');
    await term.waitForLine(/^Error: Download failed\. Please connect to the server first\.$/);
    await term.waitForLast('fex>');
    await term.type('/exit');
    await term.press('Enter');
    await term.waitForLast('[exited 0]');
  });
});

describe('one-shot transfers in a terminal', { skip: SKIP }, () => {
  const MiB = 1024 * 1024;
  let server: RunningServer;
  let proxy: HoldingProxy;
  let user: User;
  let socket: string;
  let via: string[];
  const content = Buffer.alloc(16 * MiB, 7);

  before(async () => {
    server = await startServer();
    proxy = await new HoldingProxy(server.port).start();
    user = await makeUser();
    socket = join(await tempDir('fex-tmux-'), 'tmux.sock');
    via = ['--server', proxy.address];
    await writeFile(join(user.home, 'big.bin'), content);
    assert.equal((await user.run(['register', 'Watcher', ...via])).code, 0);
    assert.equal((await user.run(['store', 'big.bin', ...via])).code, 0);
    await mkdir(join(user.home, 'dl'));
  });
  after(async () => {
    Terminal.kill(socket);
    await proxy.stop();
    await cleanup();
  });

  it(
    'shows a bar with sizes, rate and time left, then on Ctrl-C says how to resume',
    LIMIT,
    async () => {
      // The relay passes the first 4 MiB of the server's answers and holds the rest: the download
      // is surely in its middle when Ctrl-C is pressed.
      proxy.limits = { down: 4 * MiB };
      const holding = proxy.holding();
      const term = await Terminal.start(user, socket, 'get', [
        'get',
        'big.bin',
        '-o',
        'dl',
        ...via,
      ]);
      await holding;
      await term.waitForLine(
        /^Downloading big\.bin 2[45]% \[#####-+\] 4\.0 MiB of 16\.0 MiB, [\d.]+ (B|KiB|MiB|GiB)\/s, \d+:\d\d left$/,
      );
      await term.press('C-c');
      const lines = await term.waitForLine(/^\[exited 130\]$/);
      const part = (await readdir(join(user.home, 'dl'))).find((name) =>
        name.endsWith('.fex-part'),
      );
      assert.ok(part, 'the bytes received are kept');
      const kept = (await stat(join(user.home, 'dl', part))).size;
      // The progress line and the ^C are gone; the error is said, and how to go on under it.
      assert.doesNotMatch(lines.join('\n'), /Downloading|\^C/);
      const from = lines.indexOf('Error: Download of big.bin interrupted (Ctrl-C).');
      assert.ok(from >= 0, lines.join('\n'));
      const hint = lines.slice(from + 1, -1).join('');
      const path = join(user.home, 'dl', part);
      assert.match(
        hint,
        new RegExp(
          `^[\\d.]+ MiB of 16\\.0 MiB kept in ${path.replace(/\./g, '\\.')}; run the same command again to resume, or fex get big\\.bin --discard-partial to remove it\\.$`,
        ),
      );
      assert.ok(kept > 0 && kept < content.length);

      // The same command again resumes from the bytes held.
      proxy.limits = {};
      const again = await user.run(['get', 'big.bin', '-o', 'dl', '--json', ...via]);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(JSON.parse(again.stdout).resumedFrom, kept);
      assert.ok((await readFile(join(user.home, 'dl', 'big.bin'))).equals(content));
    },
  );

  it('on Ctrl-C in an upload says how to resume, and exits 130', LIMIT, async () => {
    await writeFile(join(user.home, 'up.bin'), content);
    proxy.limits = { up: 4 * MiB };
    const holding = proxy.holding();
    const term = await Terminal.start(user, socket, 'store', ['store', 'up.bin', ...via]);
    await holding;
    await term.waitForLine(/^Uploading up\.bin \d+% \[/);
    await term.press('C-c');
    const lines = await term.waitForLine(/^\[exited 130\]$/);
    assert.doesNotMatch(lines.join('\n'), /Uploading|\^C/);
    const from = lines.indexOf('Error: Upload of up.bin interrupted (Ctrl-C).');
    assert.ok(from >= 0, lines.join('\n'));
    assert.equal(
      lines.slice(from + 1, -1).join(''),
      'Run the same command again to resume: the server keeps what it received of a file over 64 KiB for a day.',
    );
    proxy.limits = {};
    // (Whether it resumes depends on the server having seen the cut first: resume.test.ts.)
    const again = await user.run(['store', 'up.bin', ...via]);
    assert.equal(again.code, 0, again.stderr);
  });

  it('in the shell, Ctrl-C in a /get says what was kept and how to go on', LIMIT, async () => {
    // The limit applies to the connections the relay accepts from now on: the shell's own.
    proxy.limits = { down: 4 * MiB };
    const holding = proxy.holding();
    const term = await Terminal.start(user, socket, 'shell-get');
    await term.waitForLast('fex>');
    await term.type(`/join 127.0.0.1 ${proxy.port}`);
    await term.press('Enter');
    // The one-shot `register` in before() holds Watcher for this account: a shell logs in as it.
    await term.type('/login Watcher');
    await term.press('Enter');
    await term.waitForLast(`Watcher@127.0.0.1:${proxy.port}>`);
    await term.type('/get big.bin -o shell-dl');
    await mkdir(join(user.home, 'shell-dl'));
    await term.press('Enter');
    await holding;
    await term.waitForLine(/^Downloading big\.bin 2[45]% \[/);
    await term.press('C-c');
    const lines = await term.waitForLast('fex>');
    const from = lines.indexOf(
      'Error: Download cancelled. The connection was closed; /join to connect again.',
    );
    assert.ok(from >= 0, lines.join('\n'));
    assert.match(
      lines.slice(from + 1, -1).join(''),
      /^[\d.]+ MiB of 16\.0 MiB kept in \S+\.fex-part; \/join, then the same \/get to resume, or \/get big\.bin --discard-partial to remove it\.$/,
    );
    proxy.limits = {};
    await term.press('C-d');
    await term.waitForLast('[exited 0]');
  });
});
