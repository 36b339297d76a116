// The audit-log plugin through the real server and the real fex binary.
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cleanup, newUser, startServer, tempDir } from 'fex/testing';

const plugin = fileURLToPath(new URL('..', import.meta.url));

/** @param {string} file */
async function records(file) {
  return (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

describe('audit-log plugin', () => {
  after(cleanup);

  it('logs every request, refused ones too, with who, what, outcome and bytes', async () => {
    const dir = await tempDir();
    const log = join(dir, 'audit.log');
    const server = await startServer({ plugins: [{ module: plugin, options: { file: log } }] });
    const user = await newUser();
    await writeFile(join(user.home, 'Hello.txt'), 'hello, audit\n');
    const on = ['--server', server.address, '--handle', 'Auditee'];
    assert.equal((await user.run(['store', 'Hello.txt', ...on])).code, 0);
    assert.equal((await user.run(['get', 'Missing.txt', ...on])).code, 4);
    await server.stop();
    const lines = await records(log);
    const store = lines.find((r) => r.type === 'store');
    assert.deepEqual(
      { handle: store.handle, name: store.name, ok: store.ok },
      { handle: 'Auditee', name: 'Hello.txt', ok: true },
    );
    assert.ok(store.bytesIn >= 13, 'the file body is counted');
    assert.match(store.time, /^\d{4}-\d{2}-\d{2}T/);
    const missing = lines.find((r) => r.type === 'get');
    assert.deepEqual(
      { ok: missing.ok, code: missing.code, name: missing.name },
      { ok: false, code: 'E_NOT_FOUND', name: 'Missing.txt' },
    );
    assert.deepEqual(
      lines.map((r) => r.type).filter((t) => t !== 'leave'),
      ['hello', 'register', 'store', 'hello', 'login', 'get'],
    );
  });

  it('rotates the log by size, keeping the configured number of files', async () => {
    const dir = await tempDir();
    const log = join(dir, 'audit.log');
    const options = { file: log, maxBytes: 400, keep: 2 };
    const server = await startServer({ plugins: [{ module: plugin, options }] });
    const user = await newUser();
    for (let i = 0; i < 4; i++)
      assert.equal(
        (await user.run(['dir', '--server', server.address, '--handle', 'Rotor'])).code,
        0,
      );
    await server.stop();
    const files = (await readdir(dir)).filter((n) => n.startsWith('audit.log')).sort();
    assert.deepEqual(files, ['audit.log', 'audit.log.1', 'audit.log.2']);
    for (const file of files) {
      const text = await readFile(join(dir, file), 'utf8');
      assert.ok(Buffer.byteLength(text) <= 400, `${file} is within maxBytes`);
      for (const line of text.trim().split('\n')) JSON.parse(line);
    }
  });

  it('stops start-up when its options are wrong, naming the plugin', async () => {
    const dir = await tempDir();
    const config = join(dir, 'fex.config.json');
    await writeFile(
      config,
      JSON.stringify({ plugins: [{ module: plugin, options: { maxBytes: -1 } }] }),
    );
    const user = await newUser();
    const r = await user.run([
      'serve',
      '--port',
      '0',
      '--dir',
      join(dir, 'files'),
      '--config',
      config,
    ]);
    assert.match(
      r.stderr,
      /^Error: Cannot start the server: plugin ".*audit-log.*" refused its options: maxBytes must be a positive whole number\n$/,
    );
    assert.equal(r.code, 1);
  });
});
