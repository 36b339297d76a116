/**
 * Every refusal of the one-shot commands: the exact one-line error, the documented exit status,
 * and nothing lost or changed on either side.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  asideUploads,
  cleanup,
  makeUser,
  startServer,
  type RunningServer,
  type User,
} from '../helpers/harness.js';

async function visibleFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n !== '.fex').sort();
}

describe('one-shot refusals', () => {
  let server: RunningServer;
  let alice: User;
  let bob: User;
  let on: string[];

  before(async () => {
    server = await startServer();
    on = ['--server', server.address];
    alice = await makeUser();
    bob = await makeUser();
    await writeFile(join(alice.home, 'Shared.txt'), 'alice wrote this\n');
    await writeFile(join(bob.home, 'Shared.txt'), 'bob wants to overwrite\n');
    assert.equal((await alice.run(['register', 'Alice', ...on])).code, 0);
    assert.equal((await bob.run(['register', 'Bob', ...on])).code, 0);
  });
  after(cleanup);

  it('refuses a duplicate handle, whatever its case', async () => {
    for (const handle of ['Alice', 'alice', 'ALICE']) {
      const r = await bob.run(['register', handle, ...on]);
      assert.equal(r.stderr, 'Error: Registration failed. Handle or alias already exists.\n');
      assert.equal(r.stdout, '');
      assert.equal(r.code, 5);
    }
  });

  it('refuses to act as a handle without its credential, saying what it tried', async () => {
    const cases: Array<[string[], string]> = [
      [['dir'], 'Directory listing'],
      [['get', 'Shared.txt'], 'Download'],
      [['store', 'Shared.txt'], 'Upload'],
    ];
    for (const [args, action] of cases) {
      const r = await bob.run([...args, ...on, '--handle', 'Alice']);
      assert.equal(
        r.stderr,
        `Error: Registration failed. Handle or alias already exists.\n${action} needs a handle: this client holds no credential for Alice on ${server.address}, so it tried to register Alice, which another client holds.\n`,
      );
      assert.equal(r.code, 5);
    }
    // Bob's own handle is untouched by what was tried.
    assert.equal((await bob.run(['dir', ...on])).code, 0);
  });

  it('refuses a badly formed handle', async () => {
    for (const handle of ['a b', '../x', 'café', 'x'.repeat(33), '']) {
      const r = await bob.run(['register', handle, ...on]);
      assert.match(r.stderr, /^Error: Registration failed\. A handle is 1 to 32 letters/);
      assert.equal(r.code, 2);
    }
  });

  it('reports a missing local file before connecting', async () => {
    const r = await alice.run(['store', 'Missing.txt', ...on]);
    assert.equal(r.stderr, 'Error: File not found.\n');
    assert.equal(r.code, 4);
  });

  it('reports a file the server lacks, and writes nothing locally', async () => {
    const r = await alice.run(['get', 'Nowhere.txt', ...on]);
    assert.equal(r.stderr, 'Error: File not found in the server.\n');
    assert.equal(r.code, 4);
    assert.ok(!(await readdir(alice.home)).some((n) => n.includes('Nowhere')));
  });

  it('reports a closed port with the connection error', async () => {
    const closed = await startServer();
    await closed.stop();
    const r = await alice.run(['join', '127.0.0.1', String(closed.port)]);
    assert.equal(
      r.stderr,
      'Error: Connection to the Server has failed! Please check IP Address and Port Number.\n',
    );
    assert.equal(r.code, 3);
    const d = await alice.run(['dir', '--server', `127.0.0.1:${closed.port}`, '--handle', 'Alice']);
    assert.equal(
      d.stderr,
      'Error: Connection to the Server has failed! Please check IP Address and Port Number.\n',
    );
    assert.equal(d.code, 3);
  });

  it('lets only the owner replace a file', async () => {
    assert.equal((await alice.run(['store', 'Shared.txt', ...on])).code, 0);
    const r = await bob.run(['store', 'Shared.txt', ...on]);
    assert.equal(r.stderr, 'Error: Shared.txt belongs to Alice; only its owner may replace it.\n');
    assert.equal(r.code, 6);
    assert.equal(await readFile(join(server.dir, 'Shared.txt'), 'utf8'), 'alice wrote this\n');
    await writeFile(join(alice.home, 'Shared.txt'), 'alice, second version\n');
    assert.equal((await alice.run(['store', 'Shared.txt', ...on])).code, 0);
    assert.equal(await readFile(join(server.dir, 'Shared.txt'), 'utf8'), 'alice, second version\n');
  });

  it('refuses a name differing only in case from a stored one', async () => {
    await writeFile(join(bob.home, 'shared.TXT'), 'x');
    const r = await bob.run(['store', 'shared.TXT', ...on]);
    assert.equal(
      r.stderr,
      'Error: File name refused: it differs only in case or form from Shared.txt.\n',
    );
    assert.equal(r.code, 6);
  });

  it('refuses unsafe names on get before sending anything', async () => {
    for (const name of ['../etc/passwd', '/etc/passwd', '.fex', '..', 'a\\b']) {
      const r = await alice.run(['get', name, ...on]);
      assert.match(r.stderr, /^Error: File name refused: .+\.\n$/);
      assert.equal(r.code, 6);
    }
  });

  it('refuses local files whose names the server would refuse', async () => {
    await writeFile(join(alice.home, '-rf'), 'x');
    await writeFile(join(alice.home, 'bad\u202etxt.exe'), 'x');
    for (const name of ['-rf', 'bad\u202etxt.exe']) {
      const r = await alice.run(['store', `./${name}`, ...on]);
      assert.match(r.stderr, /^Error: File name refused: /);
      assert.equal(r.code, 6);
    }
    assert.deepEqual(await visibleFiles(server.dir), ['Shared.txt']);
  });

  it('refuses a file over the server limit before any byte is written', async () => {
    const small = await startServer({ args: ['--max-file-size', '1KiB'] });
    await writeFile(join(alice.home, 'Big.bin'), Buffer.alloc(2048, 7));
    const r = await alice.run([
      'store',
      'Big.bin',
      '--server',
      small.address,
      '--handle',
      'Alice2',
    ]);
    assert.equal(r.stderr, 'Error: File too large: 2048 bytes, the server accepts at most 1024.\n');
    assert.equal(r.code, 7);
    assert.deepEqual(await visibleFiles(small.dir), []);
    assert.deepEqual(await asideUploads(small.dir), []);
  });

  it('answers usage errors with the parameters message, what was wrong, and status 2', async () => {
    const cases: Array<[string[], string]> = [
      [['store'], 'Missing argument <filename>.'],
      [['store', 'a', 'b'], 'Unexpected argument "b".'],
      // `join` takes no --server: the first thing wrong is named.
      [['join', '127.0.0.1'], 'Unknown flag --server.'],
      [['get'], 'Missing argument <filename>.'],
      [['register'], 'Missing argument <handle>.'],
      [['dir', 'extra'], 'Unexpected argument "extra".'],
      [['dir', '--nope'], 'Unknown flag --nope.'],
    ];
    for (const [args, hint] of cases) {
      const r = await alice.run([...args, ...on]);
      assert.equal(
        r.stderr,
        `Error: Command parameters do not match or is not allowed.\n${hint}\n`,
        args.join(' '),
      );
      assert.equal(r.code, 2);
    }
  });

  it('answers a port that is not a port with the parameters message', async () => {
    for (const port of ['0', '65536', 'http', '12a']) {
      const r = await alice.run(['join', '127.0.0.1', port]);
      assert.equal(
        r.stderr,
        `Error: Command parameters do not match or is not allowed.\nPort "${port}" is not a number from 1 to 65535.\n`,
      );
      assert.equal(r.code, 2);
    }
  });

  it('answers an unknown command with "Command not found" and status 2', async () => {
    for (const args of [['bogus'], ['/quit'], ['/bogus', 'x'], ['help', 'nosuch']]) {
      const r = await alice.run(args);
      assert.equal(r.stderr, 'Error: Command not found.\n');
      assert.equal(r.code, 2);
    }
  });

  it('refuses a malformed --server', async () => {
    const r = await alice.run(['dir', '--server', 'localhost']);
    assert.equal(
      r.stderr,
      'Error: Server address "localhost" is not valid. Use host:port, e.g. 127.0.0.1:12345.\n',
    );
    assert.equal(r.code, 2);
  });

  it('reports every refusal as JSON with --json', async () => {
    const r = await alice.run(['get', 'Nowhere.txt', '--json', ...on]);
    assert.equal(r.code, 4);
    assert.deepEqual(JSON.parse(r.stdout), {
      error: { code: 'E_NOT_FOUND', message: 'File not found in the server.', exit: 4 },
    });
  });

  it('leaves without a remembered server with the disconnection error', async () => {
    const fresh = await makeUser();
    const r = await fresh.run(['leave']);
    assert.equal(r.stderr, 'Error: Disconnection failed. Please connect to the server first.\n');
    assert.equal(r.code, 3);
  });

  it('asks for registration when no handle is known', async () => {
    const fresh = await makeUser();
    const r = await fresh.run(['dir', ...on]);
    assert.equal(
      r.stderr,
      'Error: Directory listing failed. Please register first: fex register <handle> (or give --handle / FEX_HANDLE).\n',
    );
    assert.equal(r.code, 5);
  });

  it('reports a credential the server refuses as the login failing, and lists nothing', async () => {
    // `dir` sends its request and the goodbye right behind the login (docs/performance.md): the
    // listing the server then refuses must not be what the user is told, nor be printed.
    const carol = await makeUser();
    assert.equal((await carol.run(['register', 'Carol', ...on])).code, 0);
    const path = join(carol.home, 'config', 'fex', 'state.json');
    const state = await readFile(path, 'utf8');
    const held = /"credential": "([^"]+)"/.exec(state)?.[1] ?? '';
    assert.ok(held.length > 0, 'the state file holds a credential');
    await writeFile(path, state.replace(held, 'f'.repeat(held.length)));
    for (const args of [['dir'], ['dir', '--long'], ['store', 'nothing-sent.txt']]) {
      await writeFile(join(carol.home, 'nothing-sent.txt'), 'x');
      const r = await carol.run([...args, ...on]);
      assert.equal(
        r.stderr,
        'Error: Login failed. The credential for Carol is not valid on this server.\n',
        args.join(' '),
      );
      assert.equal(r.stdout, '');
      assert.equal(r.code, 5);
    }
    assert.ok(!(await visibleFiles(server.dir)).includes('nothing-sent.txt'));
  });

  it('keeps a damaged state file instead of overwriting its credentials', async () => {
    const fresh = await makeUser();
    const dir = join(fresh.home, 'config', 'fex');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'state.json'), '{ not json');
    const r = await fresh.run(['register', 'Careful', ...on]);
    assert.equal(r.stdout, 'Welcome Careful!\n');
    assert.match(
      r.stderr,
      /^Warning: .*state\.json was damaged; kept it as .*state\.json\.damaged-\d+ and started afresh\.\n$/,
    );
    const kept = (await readdir(dir)).filter((n) => n.startsWith('state.json.damaged-'));
    assert.equal(kept.length, 1);
    assert.equal(await readFile(join(dir, kept[0]!), 'utf8'), '{ not json');
  });

  it('says plainly why a download cannot be written', async () => {
    const r = await alice.run(['get', 'Shared.txt', '-o', 'no/such/dir/x', ...on]);
    assert.match(r.stderr, /^Error: Cannot write no\/such\/dir\/x: no such file or folder\n$/);
    assert.equal(r.code, 1);
  });

  it('applies the server’s own name and handle length limits', async () => {
    const strict = await startServer({
      args: ['--max-name-bytes', '8', '--max-handle-length', '4'],
    });
    const tight = ['--server', strict.address];
    const long = await alice.run(['register', 'Alice', ...tight]);
    assert.equal(
      long.stderr,
      'Error: Registration failed. This server accepts handles of at most 4 characters.\n',
    );
    assert.equal(long.code, 2);
    assert.equal((await alice.run(['register', 'Ann', ...tight])).code, 0);
    await writeFile(join(alice.home, 'a-long-name.txt'), 'x');
    const r = await alice.run(['store', 'a-long-name.txt', ...tight]);
    assert.equal(
      r.stderr,
      "Error: File name refused: the name is longer than 8 bytes, this server's limit.\n",
    );
    assert.equal(r.code, 6);
  });
});
