/**
 * Partial downloads (issue 12): a `fex get` stopped by Ctrl-C (SIGINT) keeps what it received
 * beside the destination, says where and how to go on, and exits 130; `--discard-partial`
 * removes what it keeps, in one-shot use and in the shell. A real relay holds the download at a
 * known byte, so the signal surely comes in its middle.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { BIN, cleanEnv, cleanup, makeUser, startServer, type User } from '../helpers/harness.js';
import { HoldingProxy } from '../helpers/holding-proxy.js';

const MiB = 1024 * 1024;

const held = async (folder: string) =>
  (await readdir(folder)).filter((name) => name.includes('.fex-part')).sort();

/** The size of the partial download in `folder`, 0 when none. */
async function partBytes(folder: string): Promise<number> {
  const [part] = await held(folder);
  return part ? (await stat(join(folder, part)).catch(() => ({ size: 0 }))).size : 0;
}

describe('partial downloads', () => {
  let proxy: HoldingProxy;
  let user: User;
  let via: string[];
  let folder: string;

  before(async () => {
    const server = await startServer();
    proxy = await new HoldingProxy(server.port).start();
    user = await makeUser();
    via = ['--server', proxy.address];
    folder = join(user.home, 'downloads');
    await mkdir(folder);
    await writeFile(join(user.home, 'big.bin'), Buffer.alloc(8 * MiB, 3));
    assert.equal((await user.run(['register', 'Keeper', ...via])).code, 0);
    assert.equal((await user.run(['store', 'big.bin', ...via])).code, 0);
  });
  after(async () => {
    await proxy.stop();
    await cleanup();
  });

  /** `fex get big.bin -o downloads` stopped by SIGINT in its middle. */
  async function interruptedGet() {
    proxy.limits = { down: 2 * MiB };
    const holding = proxy.holding();
    const child = spawn(process.execPath, [BIN, 'get', 'big.bin', '-o', 'downloads', ...via], {
      cwd: user.home,
      env: cleanEnv(user.home),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await holding;
    // The relay has passed its bytes; the signal comes once some are on disk (polled, not timed).
    while (!(await partBytes(folder))) await delay(20);
    child.kill('SIGINT');
    const code = await exited;
    proxy.limits = {};
    return { code, stderr };
  }

  it('keeps the bytes received on Ctrl-C, says where and how to resume, and exits 130', async () => {
    const { code, stderr } = await interruptedGet();
    assert.equal(code, 130);
    const [part = '', note] = await held(folder);
    assert.ok(part.endsWith('.fex-part') && note === `${part}.json`, part);
    const bytes = (await stat(join(folder, part))).size;
    assert.ok(bytes > 0 && bytes < 8 * MiB);
    const path = join(folder, part).replace(/\./g, '\\.');
    assert.match(
      stderr,
      new RegExp(
        `^Error: Download of big\\.bin interrupted \\(Ctrl-C\\)\\.\\n[\\d.]+ MiB of 8\\.0 MiB kept in ${path}; run the same command again to resume, or fex get big\\.bin --discard-partial to remove it\\.\\n$`,
      ),
    );
  });

  it('removes them with --discard-partial, and says when there is nothing to remove', async () => {
    assert.equal((await held(folder)).length, 2, 'the first test left a partial download');
    const bytes = (await stat(join(folder, (await held(folder))[0]!))).size;
    const r = await user.run(['get', 'big.bin', '-o', 'downloads', '--discard-partial']);
    assert.equal(r.code, 0, r.stderr);
    const size = `${(bytes / MiB).toFixed(1)} MiB`;
    assert.equal(r.stdout, `Removed the partial download of big.bin (${size}) from ${folder}.\n`);
    assert.deepEqual(await held(folder), []);
    const again = await user.run(['get', 'big.bin', '-o', 'downloads', '--discard-partial']);
    assert.equal(again.code, 0);
    assert.equal(again.stdout, `No partial download of big.bin is held in ${folder}.\n`);
    // Nothing was downloaded either time.
    assert.deepEqual(await readdir(folder), []);
  });

  it('does the same in the shell', async () => {
    await interruptedGet();
    assert.equal((await held(folder)).length, 2);
    const r = await user.run([], {
      input:
        '/get big.bin -o downloads --discard-partial\n/get big.bin -o downloads --discard-partial --json\n',
    });
    assert.equal(r.code, 0, r.stderr);
    const [removed, ...json] = r.stdout.split('\n');
    assert.match(removed!, /^Removed the partial download of big\.bin \([\d.]+ MiB\) from /);
    assert.deepEqual(JSON.parse(json.join('\n')), {
      name: 'big.bin',
      discarded: 0,
      folder,
    });
    assert.deepEqual(await held(folder), []);
  });

  it('refuses a name that breaks the name rules, as get does', async () => {
    const r = await user.run(['get', '../big.bin', '--discard-partial']);
    assert.equal(r.stderr, 'Error: File name refused: the name contains a path separator.\n');
    assert.equal(r.code, 6);
  });
});
