// The messaging plugin, both halves, through the real binaries: the server loaded with
// `--plugin`, the client half linked with `fex plugins link`, used from shells and one-shot
// commands.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cleanup, LiveShell, newUser, startServer } from 'fex/testing';

const plugin = fileURLToPath(new URL('..', import.meta.url));
const LIMIT = { timeout: 30_000 };

/** A user of fex with the messaging commands linked in. */
const messagingUser = () => newUser({ link: [plugin] });

describe('messaging plugin', () => {
  /** @type {import('fex/testing').TestServer} */
  let server;

  before(async () => {
    server = await startServer({ plugins: [plugin] });
  });
  after(cleanup);

  it('adds /broadcast and /msg to the shell and to /?', LIMIT, async () => {
    const user = await messagingUser();
    const shell = LiveShell.start(user);
    const help = await shell.run('/?', 2);
    shell.send('/exit');
    await shell.end();
    const lines = [...help, ...(await drain(shell))].join('\n');
    assert.match(lines, /\/broadcast <message> +Send a message to every registered user\./);
    assert.match(lines, /\/msg <handle> <message> +Send a message to one registered user\./);
  });

  it('shows a broadcast live in other shells, with sender and time', LIMIT, async () => {
    const ann = await messagingUser();
    const bob = await messagingUser();
    const shell = LiveShell.start(bob);
    await shell.run(`/join 127.0.0.1 ${server.port}`);
    assert.deepEqual(await shell.run('/register Bob'), ['Welcome Bob!']);
    const sent = await ann.run([
      'broadcast',
      'Slides',
      'are',
      'up',
      '--server',
      server.address,
      '--handle',
      'Ann',
    ]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /^Ann<\d{4}-\d\d-\d\d \d\d:\d\d:\d\d>: Slides are up\n$/);
    assert.equal(await shell.next(), 'Ann<TIME>: Slides are up');
    // A private message from the shell to Ann fails (she is not connected); to Bob himself works.
    assert.deepEqual(await shell.run('/msg Ann hello'), [
      'Error: Ann is not connected; the message was not delivered.',
    ]);
    // To oneself: the event arrives first, then the command's own line.
    assert.deepEqual(await shell.run('/msg Bob "note to self"', 2), [
      'Bob<TIME> to you: note to self',
      'Bob<TIME> to Bob: note to self',
    ]);
    assert.equal(await shell.end(), 1, 'a line failed');
  });

  it(
    'refuses an unknown handle, an empty message, and a server without the plugin',
    LIMIT,
    async () => {
      const ann = await messagingUser();
      const on = ['--server', server.address, '--handle', 'Ann2'];
      const unknown = await ann.run(['msg', 'Nobody', 'hi', ...on]);
      assert.equal(unknown.stderr, 'Error: No user "Nobody" is registered on this server.\n');
      assert.equal(unknown.code, 10);
      const empty = await ann.run(['broadcast', ' ', ...on]);
      assert.equal(empty.stderr, 'Error: The message is empty.\n');
      const plain = await startServer();
      const old = await ann.run(['broadcast', 'hi', '--server', plain.address, '--handle', 'Ann']);
      assert.equal(
        old.stderr,
        'Error: The server does not support "broadcast". It may need a plugin.\n',
      );
      assert.equal(old.code, 9);
      const usage = await ann.run(['msg', 'Bob']);
      assert.equal(
        usage.stderr,
        'Error: Command parameters do not match or is not allowed.\nMissing argument <message>.\n',
      );
      assert.equal(usage.code, 2);
    },
  );

  it('answers --json like a built-in command, failures included', LIMIT, async () => {
    const ann = await messagingUser();
    const on = ['--server', server.address, '--handle', 'AnnJson'];
    const sent = await ann.run(['broadcast', 'hello', 'all', '--json', ...on]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(JSON.parse(sent.stdout).line, /^AnnJson<[-\d :]+>: hello all$/);
    const refused = await ann.run(['msg', 'Nobody', 'hi', '--json', ...on]);
    assert.deepEqual(JSON.parse(refused.stdout), {
      error: {
        code: 'E_MSG_UNKNOWN_HANDLE',
        message: 'No user "Nobody" is registered on this server.',
        exit: 10,
      },
    });
    assert.equal(refused.stderr, '');
    assert.equal(refused.code, 10);
    // A failure of the client itself, before any request: the same JSON shape as `fex dir`'s.
    const nowhere = await ann.run(['broadcast', 'hi', '--json', '--server', 'nowhere']);
    const dir = await ann.run(['dir', '--json', '--server', 'nowhere']);
    assert.equal(nowhere.stdout, dir.stdout);
    assert.equal(nowhere.code, dir.code);
  });

  it('is gone from the shell and the CLI once unlinked', LIMIT, async () => {
    const user = await messagingUser();
    assert.equal((await user.run(['plugins', 'unlink', 'fex-plugin-messaging'])).code, 0);
    const r = await user.run(['broadcast', 'hi']);
    assert.equal(r.stderr, 'Error: Command not found.\n');
  });
});

/** @param {LiveShell} shell */
async function drain(shell) {
  const lines = [];
  for (let line = await shell.next(); line !== undefined; line = await shell.next())
    lines.push(line);
  return lines;
}
