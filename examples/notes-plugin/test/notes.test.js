// @ts-check
// The notes plugin through a real fex server and the real fex binary, with fex's test kit.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cleanup, newUser, startServer } from 'fex/testing';

const plugin = fileURLToPath(new URL('..', import.meta.url));

describe('notes plugin', () => {
  /** @type {import('fex/testing').TestServer} */
  let server;
  /** @type {import('fex/testing').TestUser} */
  let ann;
  /** @type {string[]} */
  let on;

  before(async () => {
    server = await startServer({ plugins: [{ module: plugin, options: { max: 2 } }] });
    ann = await newUser({ link: [plugin] });
    on = ['--server', server.address, '--handle', 'Ann'];
    await writeFile(join(ann.home, 'Hello.txt'), 'Hello, world\n');
    assert.equal((await ann.run(['register', 'Ann', '--server', server.address])).code, 0);
    assert.equal((await ann.run(['store', 'Hello.txt', ...on])).code, 0);
  });
  after(cleanup);

  it('keeps notes on a stored file and reads them back', async () => {
    const noted = await ann.run(['note', 'Hello.txt', 'Checked,', 'all', 'good.', ...on]);
    assert.deepEqual(
      [noted.stdout, noted.stderr, noted.code],
      ['Noted Hello.txt (1 notes).\n', '', 0],
    );
    const read = await ann.run(['note', 'Hello.txt', ...on]);
    assert.equal(read.stdout, 'Ann: Checked, all good.\n');
  });

  it('answers --json like fex commands', async () => {
    const read = await ann.run(['note', 'Hello.txt', '--json', ...on]);
    assert.deepEqual(JSON.parse(read.stdout), {
      name: 'Hello.txt',
      notes: ['Ann: Checked, all good.'],
    });
    const refused = await ann.run(['note', 'Nope.txt', 'hi', '--json', ...on]);
    assert.deepEqual(JSON.parse(refused.stdout), {
      error: {
        code: 'E_NOT_FOUND',
        message: 'No file "Nope.txt" on this server to note.',
        exit: 4,
      },
    });
    assert.equal(refused.code, 4);
  });

  it('refuses with built-in codes and its own, in their words and exit statuses', async () => {
    const missing = await ann.run(['note', 'Nope.txt', 'hi', ...on]);
    assert.deepEqual(
      [missing.stderr, missing.code],
      ['Error: No file "Nope.txt" on this server to note.\n', 4],
    );
    const badName = await ann.run(['note', '../etc/passwd', 'hi', ...on]);
    assert.match(badName.stderr, /^Error: File name refused: .+\.\n$/);
    assert.equal(badName.code, 6);
    const long = await ann.run(['note', 'Hello.txt', 'x'.repeat(201), ...on]);
    assert.deepEqual([long.stderr, long.code], ['Error: A note is 1 to 200 characters.\n', 10]);
    assert.equal((await ann.run(['note', 'Hello.txt', 'second', ...on])).code, 0);
    const full = await ann.run(['note', 'Hello.txt', 'third', ...on]);
    assert.deepEqual([full.stderr, full.code], ['Error: Hello.txt has 2 notes already.\n', 10]);
  });

  it('works in the shell too, failures as one error line', async () => {
    const bob = await newUser({ link: [plugin] });
    const shell = await bob.run(['shell'], {
      input: `/join 127.0.0.1 ${server.port}\n/register Bob\n/note Hello.txt\n/note Nope.txt hi\n/exit\n`,
    });
    assert.match(shell.stdout, /\nAnn: Checked, all good\.\nAnn: second\n/);
    assert.equal(shell.stderr, 'Error: No file "Nope.txt" on this server to note.\n');
  });
});
