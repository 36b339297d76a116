/**
 * The course demo as students run it (issue 12): three terminals of ONE user account (one HOME,
 * so one remembered `state.json`), each in its own folder, against the real server. A handle is
 * claimed by whoever holds it: a second terminal's `/register User1` is refused even though the
 * account remembers User1's credential; `/login User1` is the explicit way to act as it, and the
 * shell that registered User1 logs in again after /leave and /join.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  cleanup,
  makeUser,
  startServer,
  type RunningServer,
  type User,
} from '../helpers/harness.js';
import { LiveShell, stopShells } from './shell-support.js';

const JOINED = 'Connection to the File Exchange Server is successful!';
const TAKEN = 'Error: Registration failed. Handle or alias already exists.';
const LIMIT = { timeout: 60_000 };

describe('three terminals of one account', () => {
  let server: RunningServer;
  let account: User;
  let joinLine: string;
  const folder = (n: number) => join(account.home, `terminal${n}`);

  before(async () => {
    server = await startServer();
    account = await makeUser();
    joinLine = `/join 127.0.0.1 ${server.port}`;
    for (const n of [1, 2, 3]) await mkdir(folder(n));
    await writeFile(join(folder(1), 'Hello.txt'), 'Hello from terminal 1\n');
    await writeFile(join(folder(2), 'Goodbye.txt'), 'Goodbye from terminal 2\n');
  });
  after(async () => {
    await stopShells();
    await cleanup();
  });

  it(
    'refuses a second terminal the handle the first registered, as the course expects',
    LIMIT,
    async () => {
      const one = LiveShell.start(account, ['shell'], folder(1));
      const two = LiveShell.start(account, ['shell'], folder(2));
      const three = LiveShell.start(account, ['shell'], folder(3));

      assert.deepEqual(await one.run(joinLine), [JOINED]);
      assert.deepEqual(await one.run('/register User1'), ['Welcome User1!']);
      assert.deepEqual(await one.run('/store Hello.txt'), ['User1<TIME>: Uploaded Hello.txt']);

      // Same account, same state.json holding User1's credential: still refused.
      assert.deepEqual(await two.run(joinLine), [JOINED]);
      assert.deepEqual(await two.run('/register User1'), [TAKEN]);
      assert.deepEqual(await two.run('/register user1'), [TAKEN], 'without regard to case');
      assert.deepEqual(await two.run('/register User2'), ['Welcome User2!']);
      assert.deepEqual(await two.run('/store Goodbye.txt'), ['User2<TIME>: Uploaded Goodbye.txt']);
      assert.equal(await one.next(), 'User2<TIME>: Uploaded Goodbye.txt');

      assert.deepEqual(await three.run(joinLine), [JOINED]);
      assert.deepEqual(await three.run('/register User1'), [TAKEN]);
      assert.deepEqual(await three.run('/register User2'), [TAKEN]);
      assert.deepEqual(await three.run('/register User3'), ['Welcome User3!']);
      assert.deepEqual(await three.run('/dir', 3), [
        'Server Directory',
        'Goodbye.txt',
        'Hello.txt',
      ]);
      assert.deepEqual(await three.run('/get Hello.txt'), ['File received from Server: Hello.txt']);
      assert.equal(await readFile(join(folder(3), 'Hello.txt'), 'utf8'), 'Hello from terminal 1\n');

      // The shell that registered User1 is User1 again after /leave and /join.
      assert.deepEqual(await one.run('/leave'), ['Connection closed. Thank you!']);
      assert.deepEqual(await one.run(joinLine), [JOINED]);
      assert.deepEqual(await one.run('/register User1'), ['Welcome User1!']);
      assert.deepEqual(await one.run('/dir', 3), ['Server Directory', 'Goodbye.txt', 'Hello.txt']);

      await Promise.all([one.end(), two.end(), three.end()]);
    },
  );

  it('acts as a handle the account holds only when asked, with /login', LIMIT, async () => {
    const shell = LiveShell.start(account, ['shell'], folder(3));
    assert.deepEqual(await shell.run('/login User1'), [
      'Error: Login failed. Please connect to the server first.',
    ]);
    assert.deepEqual(await shell.run(joinLine), [JOINED]);
    assert.deepEqual(await shell.run('/login Nobody'), [
      `Error: Login failed. This account holds no credential for Nobody on ${server.address}; register the handle first.`,
    ]);
    assert.deepEqual(await shell.run('/login', 2), [
      'Error: Command parameters do not match or is not allowed.',
      'Missing argument <handle>.',
    ]);
    assert.deepEqual(await shell.run('/login User1'), ['Welcome User1!']);
    await writeFile(join(folder(3), 'Third.txt'), 'by User1 from terminal 3\n');
    assert.deepEqual(await shell.run('/store Third.txt'), ['User1<TIME>: Uploaded Third.txt']);
    // Its own now: a /register of it on the next connection logs in.
    assert.deepEqual(await shell.run('/leave'), ['Connection closed. Thank you!']);
    assert.deepEqual(await shell.run(joinLine), [JOINED]);
    assert.deepEqual(await shell.run('/register User1'), ['Welcome User1!']);
    await shell.end();

    // Another account holds no credential for User1: /login cannot make it User1.
    const stranger = await makeUser();
    const other = LiveShell.start(stranger);
    assert.deepEqual(await other.run(joinLine), [JOINED]);
    assert.deepEqual(await other.run('/login User1'), [
      `Error: Login failed. This account holds no credential for User1 on ${server.address}; register the handle first.`,
    ]);
    assert.deepEqual(await other.run('/register User1'), [TAKEN]);
    await other.end();
  });

  it(
    'keeps the remembered credential for one-shot commands of the same account',
    LIMIT,
    async () => {
      const on = ['--server', server.address];
      const stored = await account.run(['store', 'Hello.txt', ...on, '--handle', 'User1'], {
        cwd: folder(1),
      });
      assert.equal(stored.stderr, '');
      assert.match(stored.stdout, /^User1<.+>: Uploaded Hello\.txt\n$/);
      // `fex register` of a handle the account holds logs in, as before.
      const again = await account.run(['register', 'User2', ...on]);
      assert.equal(again.stdout, 'Welcome User2!\n');
      // `fex login` makes a held handle the default; it never registers.
      const login = await account.run(['login', 'User3', ...on]);
      assert.equal(login.stdout, 'Welcome User3!\n');
      assert.equal(login.code, 0);
      await writeFile(join(folder(3), 'Default.txt'), 'as the default handle\n');
      const byDefault = await account.run(['store', 'Default.txt', ...on], { cwd: folder(3) });
      assert.match(byDefault.stdout, /^User3<.+>: Uploaded Default\.txt\n$/);
      const none = await account.run(['login', 'Free9', ...on]);
      assert.equal(
        none.stderr,
        `Error: Login failed. This account holds no credential for Free9 on ${server.address}; register the handle first.\n`,
      );
      assert.equal(none.code, 5);
      const free = await account.run(['register', 'Free9', ...on]);
      assert.equal(free.stdout, 'Welcome Free9!\n', 'the failed login claimed nothing');
    },
  );
});
