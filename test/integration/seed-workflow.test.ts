/**
 * The seed's whole workflow through one-shot commands, real server, real binary, exact output.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile, readdir, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  cleanup,
  makeUser,
  startServer,
  uploadedLine,
  type RunningServer,
  type User,
} from '../helpers/harness.js';

describe('the seed workflow, one-shot', () => {
  let server: RunningServer;
  let user: User;

  before(async () => {
    server = await startServer();
    user = await makeUser();
    await writeFile(join(user.home, 'Hello.txt'), 'Hello, fex!\n');
    await writeFile(join(user.home, 'Goodbye.txt'), 'Goodbye.\n');
  });
  after(cleanup);

  it('joins: checks the server and remembers it', async () => {
    const r = await user.run(['join', '127.0.0.1', String(server.port)]);
    assert.equal(r.stdout, 'Connection to the File Exchange Server is successful!\n');
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
  });

  it('registers a handle', async () => {
    const r = await user.run(['register', 'User1']);
    assert.equal(r.stdout, 'Welcome User1!\n');
    assert.equal(r.code, 0);
  });

  it('stores two files, each announced with handle and time', async () => {
    for (const name of ['Hello.txt', 'Goodbye.txt']) {
      const r = await user.run(['store', name]);
      assert.match(r.stdout, uploadedLine('User1', name));
      assert.equal(r.code, 0);
    }
  });

  it('keeps the stored files under their own names in the server directory', async () => {
    const names = (await readdir(server.dir)).filter((n) => n !== '.fex').sort();
    assert.deepEqual(names, ['Goodbye.txt', 'Hello.txt']);
    assert.equal(await readFile(join(server.dir, 'Hello.txt'), 'utf8'), 'Hello, fex!\n');
  });

  it('lists the server directory in a stable order', async () => {
    const r = await user.run(['dir']);
    assert.equal(r.stdout, 'Server Directory\nGoodbye.txt\nHello.txt\n');
    assert.equal(r.code, 0);
  });

  it('gets a file into the current folder, byte-identical', async () => {
    const into = join(user.home, 'downloads');
    await mkdir(into);
    const r = await user.run(['get', 'Hello.txt'], { cwd: into });
    assert.equal(r.stdout, 'File received from Server: Hello.txt\n');
    assert.equal(r.code, 0);
    assert.equal(await readFile(join(into, 'Hello.txt'), 'utf8'), 'Hello, fex!\n');
    assert.deepEqual(await readdir(into), ['Hello.txt'], 'no temporary file is left behind');
  });

  it('leaves: forgets the server', async () => {
    const r = await user.run(['leave']);
    assert.equal(r.stdout, 'Connection closed. Thank you!\n');
    assert.equal(r.code, 0);
    const again = await user.run(['dir']);
    assert.equal(
      again.stderr,
      'Error: Directory listing failed. Please connect to the server first.\n',
    );
    assert.equal(again.code, 3);
  });

  it('accepts the slash form: fex /store, fex /dir', async () => {
    const r = await user.run(['/dir', '--server', server.address]);
    assert.equal(r.stdout, 'Server Directory\nGoodbye.txt\nHello.txt\n');
    assert.equal(r.code, 0);
  });

  it('runs the one-line form of SPEC.md on a fresh client', async () => {
    const fresh = await makeUser();
    await writeFile(join(fresh.home, 'Script.txt'), 'from a script\n');
    const r = await fresh.run([
      'store',
      'Script.txt',
      '--server',
      server.address,
      '--handle',
      'Scripter',
    ]);
    assert.match(r.stdout, uploadedLine('Scripter', 'Script.txt'));
    assert.equal(r.code, 0);
    const again = await fresh.run([
      'store',
      'Script.txt',
      '--server',
      server.address,
      '--handle',
      'Scripter',
    ]);
    assert.match(
      again.stdout,
      uploadedLine('Scripter', 'Script.txt'),
      'the claimed handle is reused',
    );
  });
});
