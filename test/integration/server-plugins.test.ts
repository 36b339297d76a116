/**
 * Server plugins through `fex serve --plugin`: a plugin adds request types beside the built-ins,
 * a throwing handler answers only its client, and a plugin that cannot load stops start-up with a
 * message naming it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  cleanup,
  makeUser,
  pluginFixture,
  startServer,
  tempDir,
  type RunningServer,
} from '../helpers/harness.js';
import { greeted } from '../helpers/raw-client.js';

describe('server plugins', () => {
  let server: RunningServer;

  before(async () => {
    server = await startServer({ args: ['--plugin', pluginFixture('echo-plugin.js')] });
  });
  after(cleanup);

  it('serves the types a plugin adds, listed in hello', async () => {
    const client = await greeted(server.port, 'Echoer');
    client.send({ type: 'hello', id: 3, version: 1 });
    const hello = await client.next();
    assert.ok((hello?.types as string[]).includes('echo'));
    client.send({ type: 'echo', id: 4, text: 'hi' });
    const answer = await client.next();
    assert.deepEqual([answer?.type, answer?.text, answer?.handle], ['ok', 'hi', 'Echoer']);
    client.close();
  });

  it('checks a plugin handler’s fields and registration in the core', async () => {
    const client = await greeted(server.port);
    client.send({ type: 'echo', id: 3, text: 'hi' });
    assert.equal((await client.next())?.code, 'E_NOT_REGISTERED');
    client.send({ type: 'register', id: 4, handle: 'Checked' });
    assert.equal((await client.next())?.type, 'ok');
    client.send({ type: 'echo', id: 5 });
    assert.equal((await client.next())?.code, 'E_BAD_REQUEST');
    client.close();
  });

  it('answers a throwing handler with E_INTERNAL and stays up', async () => {
    const client = await greeted(server.port);
    client.send({ type: 'boom', id: 3 });
    const answer = await client.next();
    assert.deepEqual([answer?.type, answer?.code], ['error', 'E_INTERNAL']);
    client.send({ type: 'dir', id: 4 });
    assert.equal(
      (await client.next())?.code,
      'E_NOT_REGISTERED',
      'the same connection still works',
    );
    client.close();
    const other = await greeted(server.port, 'After');
    other.close();
  });

  it('passes a plugin’s own error code and message to the client', async () => {
    const client = await greeted(server.port);
    client.send({ type: 'refuse', id: 3 });
    const answer = await client.next();
    assert.deepEqual(
      [answer?.code, answer?.message],
      ['E_ECHO_REFUSED', 'The echo plugin refuses politely.'],
    );
    client.close();
  });

  for (const [file, expected] of [
    [
      'throws-on-load.js',
      /^Error: Cannot start the server: plugin ".*throws-on-load\.js" could not be loaded: broken on purpose\n$/,
    ],
    [
      'duplicate-type.js',
      /^Error: Cannot start the server: plugin "duplicate" serves "dir", which plugin "fex-builtin" already serves\n$/,
    ],
    [
      'wrong-version.js',
      /^Error: Cannot start the server: plugin "from-the-future" is written for plugin API 99, this server provides 2\n$/,
    ],
    [
      'api-v1.js',
      /^Error: Cannot start the server: plugin "old-timer" is written for plugin API 1, this server provides 2\n$/,
    ],
    [
      'does-not-exist.js',
      /^Error: Cannot start the server: plugin ".*does-not-exist\.js" could not be loaded: /,
    ],
  ] as const) {
    it(`stops start-up for ${file}, naming the plugin`, async () => {
      const user = await makeUser();
      const dir = join(await tempDir(), 'files');
      const r = await user.run([
        'serve',
        '--port',
        '0',
        '--dir',
        dir,
        '--plugin',
        pluginFixture(file),
      ]);
      assert.match(r.stderr, expected);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
    });
  }
});
