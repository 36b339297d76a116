// The quota plugin through the real server and the real fex binary.
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cleanup, newUser, startServer } from 'fex/testing';

const plugin = fileURLToPath(new URL('..', import.meta.url));

describe('quota plugin', () => {
  /** @type {import('fex/testing').TestServer} */
  let server;
  /** @type {import('fex/testing').TestUser} */
  let user;
  /** @type {string[]} */
  let on;

  before(async () => {
    const options = { quota: '10KiB', maxFileSize: 6000 };
    server = await startServer({ plugins: [{ module: plugin, options }] });
    user = await newUser();
    on = ['--server', server.address, '--handle', 'Saver'];
    await writeFile(join(user.home, 'a.bin'), Buffer.alloc(5000));
    await writeFile(join(user.home, 'b.bin'), Buffer.alloc(5000));
    await writeFile(join(user.home, 'c.bin'), Buffer.alloc(1000));
    await writeFile(join(user.home, 'huge.bin'), Buffer.alloc(7000));
  });
  after(cleanup);

  it('refuses a file over maxFileSize before any byte is written', async () => {
    const r = await user.run(['store', 'huge.bin', ...on]);
    assert.equal(
      r.stderr,
      'Error: File too large: 7000 bytes; files on this server may be at most 6000 bytes.\n',
    );
    assert.equal(r.code, 10);
    assert.deepEqual(await readdir(join(server.dir, '.fex', 'partial')), []);
  });

  it('accepts files within the quota, then refuses the one that would exceed it', async () => {
    assert.equal((await user.run(['store', 'a.bin', ...on])).code, 0);
    assert.equal((await user.run(['store', 'b.bin', ...on])).code, 0);
    const r = await user.run(['store', 'c.bin', ...on]);
    assert.equal(
      r.stderr,
      'Error: Quota exceeded: Saver keeps 10000 of 10240 bytes here, and this file needs 1000.\n',
    );
    assert.equal(r.code, 10);
    assert.deepEqual((await readdir(server.dir)).filter((n) => n !== '.fex').sort(), [
      'a.bin',
      'b.bin',
    ]);
  });

  it('counts only the difference when an owner replaces a file', async () => {
    await writeFile(join(user.home, 'a.bin'), Buffer.alloc(5200));
    const r = await user.run(['store', 'a.bin', ...on]);
    assert.equal(r.code, 0, r.stderr);
  });

  it('keeps each handle’s quota its own', async () => {
    const other = await newUser();
    await writeFile(join(other.home, 'c.bin'), Buffer.alloc(1000));
    const r = await other.run(['store', 'c.bin', '--server', server.address, '--handle', 'Other']);
    assert.equal(r.code, 0, r.stderr);
  });

  it('counts stores still in flight: a piped run of stores cannot overshoot', async () => {
    const piper = await newUser();
    for (const [name, size] of [
      ['p1.bin', 5000],
      ['p2.bin', 5000],
      ['p3.bin', 1000],
    ])
      await writeFile(join(piper.home, String(name)), Buffer.alloc(Number(size)));
    const script = [
      `/join 127.0.0.1 ${server.port}`,
      '/register Piped',
      '/store p1.bin',
      '/store p2.bin',
      '/store p3.bin',
      '/leave',
    ];
    const r = await piper.run(['shell'], { input: script.map((line) => `${line}\n`).join('') });
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'Error: Quota exceeded: Piped keeps 10000 of 10240 bytes here, and this file needs 1000.\n',
    );
    const stored = (await readdir(server.dir)).filter((n) => n.startsWith('p'));
    assert.deepEqual(stored.sort(), ['p1.bin', 'p2.bin']);
  });
});
