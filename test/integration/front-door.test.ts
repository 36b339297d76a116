// The front-door example of docs/plugins.md, as written there, in the real server: its
// in-process connections meet the handler table, the handle registry and the limits that a TCP
// client meets, and refusals carry the CLI's words.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanup, makeUser, ROOT, startServer, tempDir, type User } from '../helpers/harness.js';

/** The example plugin of docs/plugins.md, written out as a package that installed fex. */
async function examplePlugin(): Promise<string> {
  const doc = await readFile(join(ROOT, 'docs', 'plugins.md'), 'utf8');
  const code = /```js example=claims-plugin\/index\.js\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(code, 'docs/plugins.md has the claims-plugin example');
  const folder = join(await tempDir(), 'claims-plugin');
  await mkdir(join(folder, 'node_modules'), { recursive: true });
  await writeFile(join(folder, 'index.js'), code);
  await writeFile(
    join(folder, 'package.json'),
    JSON.stringify({ name: 'claims', type: 'module', main: 'index.js' }),
  );
  await symlink(ROOT, join(folder, 'node_modules', 'fex'));
  await symlink(join(ROOT, 'node_modules', '@types'), join(folder, 'node_modules', '@types'));
  const compilerOptions = {
    ...{ target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true },
    ...{ allowJs: true, checkJs: true, noEmit: true, skipLibCheck: true, types: ['node'] },
  };
  await writeFile(
    join(folder, 'tsconfig.json'),
    JSON.stringify({ compilerOptions, include: ['index.js'] }),
  );
  return folder;
}

async function start(folder: string, args: string[] = []) {
  const server = await startServer({ args: ['--plugin', folder, ...args] });
  const line = await server.waitForLine(/claims at /);
  const url = /claims at (\S+)/.exec(line)?.[1] ?? '';
  const claim = async (handle: string) => {
    const response = await fetch(new URL(encodeURIComponent(handle), url), { method: 'POST' });
    return { status: response.status, text: await response.text() };
  };
  return { server, claim };
}

describe('a front door (server.connect)', () => {
  let folder: string;
  let user: User;
  before(async () => {
    folder = await examplePlugin();
    user = await makeUser();
  });
  after(cleanup);

  it('type-checks against the SDK', { timeout: 120_000 }, async () => {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const checked = spawnSync(process.execPath, [tsc, '--noEmit', '-p', folder], {
      encoding: 'utf8',
    });
    assert.equal(checked.status, 0, checked.stdout + checked.stderr);
  });

  it('registers through the handler table, in the registry the CLI uses', async () => {
    const { server, claim } = await start(folder);
    const ann = await claim('Ann');
    assert.equal(ann.status, 200);
    assert.match(ann.text, /^Ann \S{20,}\n$/);
    // Taken for the CLI too, in the same words either way.
    const cli = await user.run(['register', 'Ann', '--server', server.address]);
    assert.equal(cli.stderr, 'Error: Registration failed. Handle or alias already exists.\n');
    assert.equal((await claim('Ann')).text, cli.stderr);
    assert.equal((await user.run(['register', 'Bob', '--server', server.address])).code, 0);
    assert.equal((await claim('Bob')).text, cli.stderr);
    const bad = await user.run(['register', 'no spaces', '--server', server.address]);
    assert.equal((await claim('no spaces')).text, bad.stderr.split('\n')[0] + '\n');
    // The log names the front door's connection like any client's.
    await server.waitForLine(/127\.0\.0\.1:\d+ registered Ann$/);
  });

  it('counts against maxConnections: a full server refuses it with E_BUSY', async () => {
    const { server, claim } = await start(folder, ['--max-connections', '1']);
    const tcp = connect(server.port, '127.0.0.1');
    await once(tcp, 'connect');
    await server.waitForLine(/joined$/);
    assert.equal(
      (await claim('Late')).text,
      'Error: The server is full. Please try again later.\n',
    );
    tcp.destroy();
    await once(tcp, 'close');
    await server.waitForLine(/disconnected/);
    assert.equal((await claim('Late')).status, 200);
  });
});
