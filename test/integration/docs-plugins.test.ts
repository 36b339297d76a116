/**
 * docs/plugins.md's walk-through, run as written: its files are taken from the document, loaded
 * into a real server (`--plugin`) and a real `fex` (`fex plugins link`), and the output the
 * document shows is checked. If the document and fex drift apart, this fails.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  cleanup,
  makeUser,
  ROOT,
  startServer,
  tempDir,
  type RunningServer,
  type User,
} from '../helpers/harness.js';

/** Runs a node script in `cwd` (outside the test runner's own environment); its output. */
function node(args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !key.startsWith('NODE_TEST')),
    );
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** The fenced blocks of the document marked `file=<path>`. */
function files(markdown: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const match of markdown.matchAll(/```\w+ file=(\S+)\n([\s\S]*?)```/g))
    found.set(match[1]!, match[2]!);
  return found;
}

describe('docs/plugins.md walk-through', () => {
  let server: RunningServer;
  let user: User;
  let folder: string;

  before(async () => {
    const doc = await readFile(join(ROOT, 'docs', 'plugins.md'), 'utf8');
    const written = files(doc);
    assert.deepEqual([...written.keys()].sort(), [
      'hello-plugin/commands/greet.js',
      'hello-plugin/index.js',
      'hello-plugin/package.json',
      'hello-plugin/test/greet.test.js',
      'hello-plugin/tsconfig.json',
    ]);
    const base = await tempDir();
    for (const [path, text] of written) {
      await mkdir(dirname(join(base, path)), { recursive: true });
      await writeFile(join(base, path), text);
    }
    folder = join(base, 'hello-plugin');
    // What the document's `npm install` lines give the plugin, without the network: this fex
    // (.ci/example-plugin.mjs installs the packed tarball instead, for examples/notes-plugin).
    for (const scope of ['@oclif', '@types'])
      await mkdir(join(folder, 'node_modules', scope), { recursive: true });
    for (const name of ['@oclif/core', '@types/node'])
      await symlink(join(ROOT, 'node_modules', name), join(folder, 'node_modules', name));
    await symlink(ROOT, join(folder, 'node_modules', 'fex'));
    server = await startServer({ args: ['--plugin', folder] });
    user = await makeUser();
    const linked = await user.run(['plugins', 'link', folder, '--no-install']);
    assert.equal(linked.code, 0, linked.stderr);
  });
  after(cleanup);

  it('type-checks with tsc --noEmit and passes its own test', { timeout: 120_000 }, async () => {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const checked = await node([tsc, '--noEmit'], folder);
    assert.equal(checked.code, 0, checked.output);
    // As the doc's `npm test` runs it: `node --test` finds test/*.test.js on Node 20 and 24 alike
    // (a folder argument is a glob on Node 22+ and matches nothing).
    const tested = await node(['--test'], folder);
    assert.equal(tested.code, 0, tested.output);
    // Node 20 reports in TAP (`# pass 1`), Node 24 with its spec reporter (`ℹ pass 1`).
    assert.match(tested.output, /[#ℹ] pass 1\n[#ℹ] fail 0/);
  });

  it('greets one-shot, then from the remembered server and handle', async () => {
    const first = await user.run(['greet', '--server', server.address, '--handle', 'Ann']);
    assert.equal(first.stdout, 'Hello, Ann!\n', first.stderr);
    assert.equal((await user.run(['join', '127.0.0.1', String(server.port)])).code, 0);
    assert.equal((await user.run(['register', 'Ann'])).code, 0);
    const loud = await user.run(['greet', '--shout']);
    assert.equal(loud.stdout, 'HELLO, ANN!\n', loud.stderr);
    const json = await user.run(['greet', '--json']);
    assert.equal(json.stdout, '{\n  "text": "Hello, Ann!"\n}\n', json.stderr);
  });

  it('is /greet in the shell, listed by /?', async () => {
    const r = await user.run([], {
      // Ann was registered by the one-shot commands of this account: the shell logs in as her.
      input: `/join 127.0.0.1 ${server.port}\n/login Ann\n/greet\n/greet --shout\n/?\n`,
    });
    const lines = r.stdout.split('\n');
    assert.deepEqual(lines.slice(0, 4), [
      'Connection to the File Exchange Server is successful!',
      'Welcome Ann!',
      'Hello, Ann!',
      'HELLO, ANN!',
    ]);
    assert.ok(
      lines.some((line) => /^\/greet \[--shout\] +Be greeted by the server\.$/.test(line)),
      r.stdout,
    );
    assert.equal(r.code, 0, r.stderr);
  });

  it('says a server without the plugin does not support it', async () => {
    const plain = await startServer();
    const r = await user.run(['greet', '--server', plain.address, '--handle', 'Ann']);
    assert.equal(r.stderr, 'Error: The server does not support "greet". It may need a plugin.\n');
    assert.equal(r.code, 9);
  });
});
