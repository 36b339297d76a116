/**
 * A shell kept open through pipes and driven line by line, as another program would drive it:
 * it hears other users' uploads as they happen, and when the server goes away the next command
 * fails at once instead of hanging.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanup, makeUser, startServer, uploadedLine } from '../helpers/harness.js';
import { LiveShell, stopShells } from './shell-support.js';

const JOINED = 'Connection to the File Exchange Server is successful!';
// A hang must fail the test, not the whole run.
const LIMIT = { timeout: 30_000 };

describe('a shell kept open', () => {
  after(async () => {
    await stopShells();
    await cleanup();
  });

  it('prints another user’s upload as it happens', LIMIT, async () => {
    const server = await startServer();
    const alice = await makeUser();
    const bob = await makeUser();
    await writeFile(join(bob.home, 'Bob.bin'), Buffer.from([0, 1, 2, 3]));
    await writeFile(join(alice.home, 'Alice.txt'), 'from Alice\n');

    const shell = LiveShell.start(alice);
    assert.deepEqual(await shell.run(`/join 127.0.0.1 ${server.port}`), [JOINED]);
    assert.deepEqual(await shell.run('/register Alice'), ['Welcome Alice!']);

    const stored = await bob.run([
      'store',
      'Bob.bin',
      '--server',
      server.address,
      '--handle',
      'Bob',
    ]);
    assert.match(stored.stdout, uploadedLine('Bob', 'Bob.bin'));
    assert.equal(await shell.next(), 'Bob<TIME>: Uploaded Bob.bin');

    // The shell's own upload is printed once, by its command, not again as an event.
    assert.deepEqual(await shell.run('/store Alice.txt'), ['Alice<TIME>: Uploaded Alice.txt']);
    assert.deepEqual(await shell.run('/dir', 3), ['Server Directory', 'Alice.txt', 'Bob.bin']);
    assert.equal(await shell.end(), 0);
  });

  it(
    'fails the next command at once when the server has stopped, and carries on',
    LIMIT,
    async () => {
      const server = await startServer();
      const other = await startServer();
      const user = await makeUser();
      const shell = LiveShell.start(user);
      assert.deepEqual(await shell.run(`/join 127.0.0.1 ${server.port}`), [JOINED]);
      assert.deepEqual(await shell.run('/register User1'), ['Welcome User1!']);

      await server.stop('SIGTERM');
      // The server said why it closed the connection, and the shell passes that on; only if the
      // line raced the news does it see the connection break under it.
      const [line] = await shell.run('/dir');
      assert.match(
        line ?? '',
        /^Error: (The server is shutting down|Connection to the server was lost \(directory listing did not finish\))\.$/,
      );
      assert.deepEqual(await shell.run('/dir'), [
        'Error: Directory listing failed. Please connect to the server first.',
      ]);
      assert.deepEqual(await shell.run(`/join 127.0.0.1 ${other.port}`), [JOINED]);
      assert.deepEqual(await shell.run('/register User1'), ['Welcome User1!']);
      assert.deepEqual(await shell.run('/dir'), ['Server Directory']);
      assert.equal(await shell.end(), 1, 'a line failed');
    },
  );

  it('reports a server killed outright as a lost connection', LIMIT, async () => {
    const server = await startServer();
    const user = await makeUser();
    const shell = LiveShell.start(user);
    assert.deepEqual(await shell.run(`/join 127.0.0.1 ${server.port}`), [JOINED]);
    await server.stop('SIGKILL');
    // Whether the shell noticed the loss before the line or during it, it says so at once.
    const [line] = await shell.run('/register User1');
    assert.match(
      line ?? '',
      /^Error: Connection to the server was lost( \(registration did not finish\))?\.$/,
    );
    assert.deepEqual(await shell.run('/leave'), [
      'Error: Disconnection failed. Please connect to the server first.',
    ]);
    assert.equal(await shell.end(), 1);
  });

  it('prints nothing after /exit, and ends though its input stays open', LIMIT, async () => {
    const user = await makeUser();
    const shell = LiveShell.start(user, []);
    shell.send('/exit');
    assert.equal(await shell.next(), undefined, 'output closed without a line');
    assert.equal(await shell.end(), 0);
  });
});
