/**
 * The class session of SPEC.md through the shell: three users, each running the REAL `fex`
 * through pipes against the REAL server, every line of output compared exactly (stdout and stderr
 * in the order written; upload times masked as <TIME>).
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanup, makeUser, startServer, type RunningServer } from '../helpers/harness.js';
import { closedPort, transcript } from './shell-support.js';

const HELP = [
  '/join <server_ip_add> <port>  Connect to a fex server.',
  '/leave                        Disconnect from the server.',
  '/register <handle>            Register a unique handle or alias.',
  '/login <handle>               Act as a handle this account already holds.',
  '/store <filename>             Send a file to the server.',
  '/dir [--long]                 List the files on the server.',
  '/get <filename> [-o PATH]     Fetch a file from the server.',
  '/delete <filename>            Delete a file you stored on the server.',
  '/rename <old> <new>           Rename a file you stored on the server.',
  '/?                            List every command with its syntax.',
  '/exit                         End the shell (Ctrl-D does too).',
];

const lines = (...all: string[]) => all.map((line) => `${line}\n`).join('');

describe('the class session, three shells through pipes', () => {
  let server: RunningServer;
  let join1: string;

  before(async () => {
    server = await startServer();
    join1 = `/join 127.0.0.1 ${server.port}`;
  });
  after(cleanup);

  it('User1: errors before /join and before /register, then the seed workflow', async () => {
    const user = await makeUser();
    await writeFile(join(user.home, 'Hello.txt'), 'Hello, fex!\n');
    const badPort = await closedPort();
    const r = await transcript(
      user,
      ['shell'],
      lines(
        '/?',
        '/register User1',
        '/store Hello.txt',
        '/dir',
        '/get Hello.txt',
        '/leave',
        `/join 127.0.0.1 ${badPort}`,
        join1,
        join1,
        '/store Hello.txt',
        '/dir',
        '/get Hello.txt',
        '',
        '/register User1',
        '/store Hello.txt',
        '/store Missing.txt',
        '/dir',
        '/leave',
      ),
    );
    assert.equal(
      r.output,
      lines(
        ...HELP,
        'Error: Registration failed. Please connect to the server first.',
        'Error: Upload failed. Please connect to the server first.',
        'Error: Directory listing failed. Please connect to the server first.',
        'Error: Download failed. Please connect to the server first.',
        'Error: Disconnection failed. Please connect to the server first.',
        'Error: Connection to the Server has failed! Please check IP Address and Port Number.',
        'Connection to the File Exchange Server is successful!',
        `Error: Connection failed. Already connected to 127.0.0.1:${server.port}. Please /leave first.`,
        'Error: Upload failed. Please register a handle first.',
        'Error: Directory listing failed. Please register a handle first.',
        'Error: Download failed. Please register a handle first.',
        'Welcome User1!',
        'User1<TIME>: Uploaded Hello.txt',
        'Error: File not found.',
        'Server Directory',
        'Hello.txt',
        'Connection closed. Thank you!',
      ),
    );
    // 1, not the status of the last failing line (4, file not found): the shell's own status.
    assert.equal(r.code, 1, 'a line failed, so the shell fails');
  });

  it('User2: duplicate handle, get, bad lines, leave and join again', async () => {
    const user = await makeUser();
    await writeFile(join(user.home, 'Goodbye.txt'), 'Goodbye.\n');
    const r = await transcript(
      user,
      ['shell'],
      lines(
        join1,
        '/register User1',
        '/register User2',
        '/store Goodbye.txt',
        '/dir',
        '/get Hello.txt',
        '/get Missing.txt',
        'hello',
        '/quit',
        '/hello',
        '/store',
        '/store Goodbye.txt extra',
        '/join 127.0.0.1',
        '/dir extra',
        '/? extra',
        '/store "Goodbye.txt',
        `/dir --server 127.0.0.1:${server.port}`,
        '/leave',
        '/dir',
        join1,
        '/register User2',
        '/dir',
        '/exit',
        '/dir',
      ),
    );
    assert.equal(
      r.output,
      lines(
        'Connection to the File Exchange Server is successful!',
        'Error: Registration failed. Handle or alias already exists.',
        'Welcome User2!',
        'User2<TIME>: Uploaded Goodbye.txt',
        'Server Directory',
        'Goodbye.txt',
        'Hello.txt',
        'File received from Server: Hello.txt',
        'Error: File not found in the server.',
        // The course's lines exactly; a second line says what was wrong (issue 12).
        'Error: Command not found.',
        'Error: Command not found.',
        'Did you mean /exit?',
        'Error: Command not found.',
        'Error: Command parameters do not match or is not allowed.',
        'Missing argument <filename>.',
        'Error: Command parameters do not match or is not allowed.',
        'Unexpected argument "extra".',
        'Error: Command parameters do not match or is not allowed.',
        'Missing argument <port>.',
        'Error: Command parameters do not match or is not allowed.',
        'Unexpected argument "extra".',
        'Error: Command parameters do not match or is not allowed.',
        '/? takes no arguments.',
        'Error: Command parameters do not match or is not allowed.',
        'A quote (") is not closed.',
        'Error: Command parameters do not match or is not allowed.',
        '--server is for one-shot commands; the shell acts on the connection of /join and /register.',
        'Connection closed. Thank you!',
        'Error: Directory listing failed. Please connect to the server first.',
        'Connection to the File Exchange Server is successful!',
        // The credential this client got for User2 proves it again on the new connection.
        'Welcome User2!',
        'Server Directory',
        'Goodbye.txt',
        'Hello.txt',
      ),
      'nothing after /exit runs',
    );
    assert.equal(r.code, 1);
    assert.equal(await readFile(join(user.home, 'Hello.txt'), 'utf8'), 'Hello, fex!\n');
  });

  it('User3: bare `fex` is the shell; quoted names; a clean session exits 0', async () => {
    const user = await makeUser();
    await writeFile(join(user.home, 'my file.txt'), 'spaces\n');
    await mkdir(join(user.home, 'in'));
    const r = await transcript(
      user,
      [],
      lines(
        join1,
        '/register User3',
        '/store "my file.txt"',
        "/get 'my file.txt' -o in",
        '/get Goodbye.txt -o in/Bye.txt',
        '/dir',
        '/leave',
      ),
    );
    assert.equal(
      r.output,
      lines(
        'Connection to the File Exchange Server is successful!',
        'Welcome User3!',
        'User3<TIME>: Uploaded my file.txt',
        'File received from Server: my file.txt',
        'File received from Server: Goodbye.txt',
        'Server Directory',
        'Goodbye.txt',
        'Hello.txt',
        'my file.txt',
        'Connection closed. Thank you!',
      ),
    );
    assert.equal(r.code, 0);
    assert.deepEqual((await readdir(join(user.home, 'in'))).sort(), ['Bye.txt', 'my file.txt']);
    assert.equal(await readFile(join(user.home, 'in', 'Bye.txt'), 'utf8'), 'Goodbye.\n');
  });
});

describe('the shell as a script runner', () => {
  after(cleanup);

  it('runs the next line after a failing one, and fails at the end', async () => {
    const user = await makeUser();
    const r = await transcript(user, ['shell'], lines('/dir', '/?'));
    assert.equal(
      r.output,
      lines('Error: Directory listing failed. Please connect to the server first.', ...HELP),
    );
    assert.equal(r.code, 1);
  });

  it('--stop-on-error stops at the first failing line, as `fex shell` and as bare `fex`', async () => {
    const user = await makeUser();
    for (const args of [['shell', '--stop-on-error'], ['--stop-on-error']]) {
      const r = await transcript(user, args, lines('/?', '/dir', '/?'));
      assert.equal(
        r.output,
        lines(...HELP, 'Error: Directory listing failed. Please connect to the server first.'),
        args.join(' '),
      );
      assert.equal(r.code, 1, args.join(' '));
    }
  });

  it('exits 0 on empty input, on /exit, and when every line worked', async () => {
    const user = await makeUser();
    for (const input of ['', '\n\n   \n', lines('/?', '/exit', '/dir')]) {
      const r = await transcript(user, ['shell'], input);
      assert.equal(r.code, 0, JSON.stringify(input));
    }
  });

  it('keeps `fex --help` and `fex help` as oclif help, listing every command’s syntax', async () => {
    const user = await makeUser();
    for (const args of [['--help'], ['help']]) {
      const r = await transcript(user, args, '');
      assert.match(r.output, /^USAGE$/m, args.join(' '));
      assert.match(
        r.output,
        /^ {2}shell \[--stop-on-error\] +Start the interactive shell/m,
        args.join(' '),
      );
      assert.match(r.output, /^ {2}join <server_ip_add> <port> +Connect to a fex server\.$/m);
      assert.match(r.output, /^ {2}store <filename> +Send a file to the server\.$/m);
      assert.equal(r.code, 0);
    }
  });
});
