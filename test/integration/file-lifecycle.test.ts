/**
 * Files their owners manage (issue 17), through the real binary against the real server: delete
 * and rename, seen live by another shell; refusals with their own exit status; expiry, which
 * removes a file without a restart; and the operator's delete with its audit line.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { cleanup, makeUser, startServer, type User } from '../helpers/harness.js';
import { greeted } from '../helpers/raw-client.js';
import { LiveShell, stopShells } from './shell-support.js';

const JOINED = 'Connection to the File Exchange Server is successful!';
const LIMIT = { timeout: 30_000 };
const NOT_FOUND = 'Error: File not found in the server.\n';

async function joinedShell(user: User, port: number, handle: string): Promise<LiveShell> {
  const shell = LiveShell.start(user);
  assert.deepEqual(await shell.run(`/join 127.0.0.1 ${port}`), [JOINED]);
  assert.deepEqual(await shell.run(`/register ${handle}`), [`Welcome ${handle}!`]);
  return shell;
}

describe('deleting, renaming and expiring files', () => {
  after(async () => {
    await stopShells();
    await cleanup();
  });

  it('plays store, rename and delete, each seen live by another shell', LIMIT, async () => {
    const server = await startServer();
    const alice = await makeUser();
    const bob = await makeUser();
    await writeFile(join(alice.home, 'Hello.txt'), 'Hello\n');
    const owner = await joinedShell(alice, server.port, 'User1');
    const watcher = await joinedShell(bob, server.port, 'User2');

    assert.deepEqual(await owner.run('/store Hello.txt'), ['User1<TIME>: Uploaded Hello.txt']);
    assert.equal(await watcher.next(), 'User1<TIME>: Uploaded Hello.txt');

    assert.deepEqual(await owner.run('/rename Hello.txt Greeting.txt'), [
      'User1<TIME>: Renamed Hello.txt to Greeting.txt',
    ]);
    assert.equal(await watcher.next(), 'User1<TIME>: Renamed Hello.txt to Greeting.txt');
    assert.deepEqual(await watcher.run('/dir', 2), ['Server Directory', 'Greeting.txt']);
    assert.deepEqual(await watcher.run('/get Hello.txt'), [NOT_FOUND.trim()]);

    // Not the owner: both refused, nothing changed.
    assert.deepEqual(await watcher.run('/delete Greeting.txt'), [
      'Error: Greeting.txt belongs to User1; only its owner may delete it.',
    ]);
    assert.deepEqual(await watcher.run('/rename Greeting.txt Mine.txt'), [
      'Error: Greeting.txt belongs to User1; only its owner may rename it.',
    ]);
    assert.deepEqual(await watcher.run('/get Greeting.txt'), [
      'File received from Server: Greeting.txt',
    ]);

    assert.deepEqual(await owner.run('/delete Greeting.txt'), [
      'User1<TIME>: Deleted Greeting.txt',
    ]);
    assert.equal(await watcher.next(), 'User1<TIME>: Deleted Greeting.txt');
    assert.deepEqual(await watcher.run('/get Greeting.txt'), [NOT_FOUND.trim()]);
    assert.deepEqual(await owner.run('/dir'), ['Server Directory']);
    assert.deepEqual(await readdir(server.dir), ['.fex'], 'gone from the disk too');
    assert.equal(await owner.end(), 0);
    assert.equal(await watcher.end(), 1, 'the refused lines failed');
  });

  // Sixteen one-shot runs: on a loaded machine they take longer than a single exchange's bound.
  it(
    'refuses one-shot deletes and renames with their own exit status',
    { timeout: 120_000 },
    async () => {
      const server = await startServer();
      const alice = await makeUser();
      const bob = await makeUser();
      const as = (user: User, handle: string, args: string[]) =>
        user.run([...args, '--server', server.address, '--handle', handle]);
      await writeFile(join(alice.home, 'a.txt'), 'a');
      await writeFile(join(alice.home, 'b.txt'), 'b');
      await writeFile(join(bob.home, 'bob.txt'), 'bob');
      for (const name of ['a.txt', 'b.txt'])
        assert.equal((await as(alice, 'Alice', ['store', name])).code, 0);
      assert.equal((await as(bob, 'Bob', ['store', 'bob.txt'])).code, 0);

      const refusals: Array<[User, string, string[], number, string]> = [
        [
          bob,
          'Bob',
          ['delete', 'a.txt'],
          6,
          'Error: a.txt belongs to Alice; only its owner may delete it.',
        ],
        [
          bob,
          'Bob',
          ['rename', 'a.txt', 'c.txt'],
          6,
          'Error: a.txt belongs to Alice; only its owner may rename it.',
        ],
        [alice, 'Alice', ['delete', 'nothing.txt'], 4, NOT_FOUND.trim()],
        [alice, 'Alice', ['rename', 'nothing.txt', 'c.txt'], 4, NOT_FOUND.trim()],
        [
          alice,
          'Alice',
          ['rename', 'a.txt', 'b.txt'],
          6,
          'Error: Rename failed. b.txt already exists on the server.',
        ],
        [
          alice,
          'Alice',
          ['rename', 'a.txt', 'bob.txt'],
          6,
          'Error: bob.txt belongs to Bob; only its owner may replace it.',
        ],
        [
          alice,
          'Alice',
          ['rename', 'a.txt', 'B.TXT'],
          6,
          'Error: File name refused: it differs only in case or form from b.txt.',
        ],
        [alice, 'Alice', ['rename', 'a.txt', '../x'], 6, 'Error: File name refused: '],
        [alice, 'Alice', ['rename', 'a.txt', '.fex'], 6, 'Error: File name refused: '],
        [
          alice,
          'Alice',
          ['delete'],
          2,
          'Error: Command parameters do not match or is not allowed.',
        ],
        [
          alice,
          'Alice',
          ['rename', 'a.txt'],
          2,
          'Error: Command parameters do not match or is not allowed.',
        ],
      ];
      for (const [user, handle, args, code, line] of refusals) {
        const result = await as(user, handle, args);
        assert.equal(result.code, code, `${args.join(' ')}: ${result.stderr}`);
        assert.ok(result.stderr.startsWith(line), `${args.join(' ')}: ${result.stderr}`);
        assert.equal(result.stdout, '');
      }
      const listed = await as(alice, 'Alice', ['dir']);
      assert.equal(listed.stdout, 'Server Directory\na.txt\nb.txt\nbob.txt\n', 'nothing changed');

      // A case-only rename is the owner's to make: the name clashes with nothing else.
      const recased = await as(alice, 'Alice', ['rename', 'a.txt', 'A.txt', '--json']);
      assert.equal(recased.code, 0, recased.stderr);
      assert.equal(JSON.parse(recased.stdout).name, 'A.txt');
      // The new name is taken in NFC, as a stored file's name is.
      const composed = await as(alice, 'Alice', ['rename', 'A.txt', 'Cafe\u0301.txt']);
      assert.match(composed.stdout, /: Renamed A\.txt to Caf\u00e9\.txt\n$/);
      const deleted = await as(alice, 'Alice', ['delete', 'Caf\u00e9.txt']);
      assert.match(
        deleted.stdout,
        /^Alice<\d{4}-\d\d-\d\d \d\d:\d\d:\d\d>: Deleted Caf\u00e9\.txt\n$/,
      );
    },
  );

  it('lets a download under way finish with the old bytes', LIMIT, async () => {
    const server = await startServer();
    const alice = await makeUser();
    const data = Buffer.alloc(8 * 1024 * 1024, 7);
    await writeFile(join(alice.home, 'big.bin'), data);
    const args = ['--server', server.address, '--handle', 'Alice'];
    assert.equal((await alice.run(['store', 'big.bin', ...args])).code, 0);

    // A raw client asks for it and reads only the answer's header; the socket's buffers then hold
    // the download back while the file is deleted.
    const reader = await greeted(server.port, 'Reader');
    reader.socket.pause();
    reader.send({ type: 'get', id: 3, name: 'big.bin' });
    const header = await reader.next();
    assert.equal(header?.type, 'ok');
    assert.equal((await alice.run(['delete', 'big.bin', ...args])).code, 0);
    assert.equal((await alice.run(['get', 'big.bin', ...args])).stderr, NOT_FOUND);
    const hash = createHash('sha256');
    let got = 0;
    for await (const chunk of reader.reader.body()) {
      hash.update(chunk);
      got += chunk.length;
    }
    assert.equal(got, data.length);
    assert.equal(hash.digest('hex'), createHash('sha256').update(data).digest('hex'));
    reader.close();
  });

  it('removes an expired file without a restart, and says so live', LIMIT, async () => {
    const server = await startServer({ args: ['--max-age', '7d'] });
    const hello = await greeted(server.port);
    hello.send({ type: 'hello', id: 2, version: 1 });
    const { limits } = (await hello.next()) as unknown as { limits: Record<string, number> };
    assert.deepEqual([limits.maxAge, limits.defaultAge], [7 * 86_400, 0]);
    hello.close();
    const alice = await makeUser();
    await writeFile(join(alice.home, 'soon.txt'), 'gone soon');
    await writeFile(join(alice.home, 'later.txt'), 'kept a while');
    const shell = await joinedShell(alice, server.port, 'User1');
    const watcher = await joinedShell(await makeUser(), server.port, 'User2');

    assert.deepEqual(await shell.run('/store later.txt'), ['User1<TIME>: Uploaded later.txt']);
    assert.equal(await watcher.next(), 'User1<TIME>: Uploaded later.txt');
    assert.deepEqual(await shell.run('/store soon.txt --expires 1s'), [
      'User1<TIME>: Uploaded soon.txt',
    ]);
    assert.equal(await watcher.next(), 'User1<TIME>: Uploaded soon.txt');
    // The sweep's event, not a sleep, says when to look.
    assert.equal(await watcher.next(), '(server)<TIME>: Expired soon.txt');
    assert.equal(await shell.next(), '(server)<TIME>: Expired soon.txt', 'the owner hears it too');
    assert.deepEqual(await watcher.run('/dir', 2), ['Server Directory', 'later.txt']);
    assert.deepEqual(await watcher.run('/get soon.txt'), [NOT_FOUND.trim()]);
    assert.deepEqual((await readdir(server.dir)).sort(), ['.fex', 'later.txt']);
    await server.waitForLine(/soon\.txt expired \(stored by User1\)/);

    // Within the maximum, the default applies; past it, refused.
    const long = await shell.run('/dir --long', 2);
    assert.match(
      long[1] ?? '',
      /^later\.txt\t12\tUser1\t\S+ \S+\t[0-9a-f]{64}\t\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/,
    );
    const tooLong = 'Error: Expiry refused: this server keeps files at most 1w.';
    const refusals = [
      ['8d', tooLong],
      ['never', tooLong],
      [
        'soon',
        'Error: Duration "soon" is not valid. Use a whole number and a unit: 90s, 30m, 12h, 7d, 2w.',
      ],
    ];
    for (const [age, line] of refusals)
      assert.deepEqual(await shell.run(`/store later.txt --expires ${age}`), [line]);
    await shell.kill();
    await watcher.kill();
  });

  it(
    'applies the default age, and sweeps at start what expired while the server was down',
    LIMIT,
    async () => {
      const first = await startServer({ args: ['--default-age', '1h'] });
      const alice = await makeUser();
      await writeFile(join(alice.home, 'a.txt'), 'a');
      await writeFile(join(alice.home, 'b.txt'), 'b');
      const as = (address: string, args: string[]) =>
        alice.run([...args, '--server', address, '--handle', 'Alice']);
      const stored = await as(first.address, ['store', 'a.txt', '--json']);
      const file = JSON.parse(stored.stdout) as { time: number; expires: number };
      assert.equal(file.expires - file.time, 3600_000);
      const forever = await as(first.address, ['store', 'a.txt', '--expires', 'never', '--json']);
      assert.equal(JSON.parse(forever.stdout).expires, undefined);
      const listed = await as(first.address, ['dir', '--long']);
      assert.match(listed.stdout, /^a\.txt\t1\tAlice\t\S+ \S+\t[0-9a-f]{64}\t-$/m);

      const brief = await as(first.address, ['store', 'b.txt', '--expires', '1s', '--json']);
      const expires = (JSON.parse(brief.stdout) as { expires: number }).expires;
      await first.stop();
      // The file's time has to come while no server runs: wait for the clock, not for an event.
      await delay(Math.max(0, expires - Date.now() + 50));
      const second = await startServer({ dir: first.dir, port: first.port });
      await second.waitForLine(/b\.txt expired \(stored by Alice\); deleted/);
      const after = await as(second.address, ['dir']);
      assert.equal(after.stdout, 'Server Directory\na.txt\n', after.stderr);
      assert.deepEqual((await readdir(second.dir)).sort(), ['.fex', 'a.txt']);
    },
  );

  it('lets the operator delete any file, with an audit line, and no one else', LIMIT, async () => {
    const server = await startServer();
    const alice = await makeUser();
    await writeFile(join(alice.home, 'Hello.txt'), 'Hello\n');
    const watcher = await joinedShell(await makeUser(), server.port, 'User2');
    const args = ['--server', server.address, '--handle', 'Alice'];
    assert.equal((await alice.run(['store', 'Hello.txt', ...args])).code, 0);
    assert.equal(await watcher.next(), 'Alice<TIME>: Uploaded Hello.txt');

    const stranger = await makeUser();
    const noKey = await stranger.run([
      'operator',
      'delete',
      'Hello.txt',
      '--server',
      server.address,
    ]);
    assert.equal(noKey.code, 5);
    assert.match(noKey.stderr, /^Error: Cannot read the operator key .*server-files/);
    // A key that is not this server's, offered straight over the protocol.
    const forger = await greeted(server.port);
    forger.send({ type: 'operator-delete', id: 2, name: 'Hello.txt', key: 'f'.repeat(64) });
    assert.equal((await forger.next())?.code, 'E_BAD_OPERATOR_KEY');
    forger.close();

    const done = await stranger.run([
      'operator',
      'delete',
      'Hello.txt',
      '--dir',
      server.dir,
      '--server',
      server.address,
    ]);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /^\(operator\)<.+>: Deleted Hello\.txt\n$/);
    assert.equal(await watcher.next(), '(operator)<TIME>: Deleted Hello.txt');
    await server.waitForLine(
      /audit: the operator .* deleted Hello\.txt: 6 bytes, sha256 [0-9a-f]{64}, stored by Alice/,
    );
    const again = await stranger.run([
      'operator',
      'delete',
      'Hello.txt',
      '--dir',
      server.dir,
      '--server',
      server.address,
    ]);
    assert.equal(again.code, 4);
    assert.equal(again.stderr, NOT_FOUND);
    await watcher.kill();
  });
});
