/**
 * Transfers through the real binary: binary files of several MiB byte for byte, two users
 * exchanging files, output options, environment variables and JSON output.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
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

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('one-shot transfers', () => {
  let server: RunningServer;
  let alice: User;
  let bob: User;
  let on: string[];
  const big = randomBytes(6 * 1024 * 1024 + 123);

  before(async () => {
    server = await startServer();
    on = ['--server', server.address];
    alice = await makeUser();
    bob = await makeUser();
    await writeFile(join(alice.home, 'Alice.bin'), big);
    assert.equal((await alice.run(['register', 'Alice', ...on])).code, 0);
    assert.equal((await bob.run(['register', 'Bob', ...on])).code, 0);
  });
  after(cleanup);

  it('stores a 6 MiB binary file and keeps it byte for byte', async () => {
    const r = await alice.run(['store', 'Alice.bin', ...on]);
    assert.match(r.stdout, uploadedLine('Alice', 'Alice.bin'));
    assert.ok((await readFile(join(server.dir, 'Alice.bin'))).equals(big));
  });

  it('lets another user fetch it, verified, byte for byte', async () => {
    const r = await bob.run(['get', 'Alice.bin', ...on]);
    assert.equal(r.stdout, 'File received from Server: Alice.bin\n');
    assert.ok((await readFile(join(bob.home, 'Alice.bin'))).equals(big));
  });

  it('moves a file large enough for the hashing thread both ways, verified on each end', async () => {
    // Above OFF_THREAD_MIN_BYTES (16 MiB): the client, the server's store and the download
    // hash it on their hashing threads, from the files' descriptors.
    const large = randomBytes(17 * 1024 * 1024 + 5);
    await writeFile(join(alice.home, 'Large.bin'), large);
    const stored = await alice.run(['store', 'Large.bin', ...on]);
    assert.match(stored.stdout, uploadedLine('Alice', 'Large.bin'));
    assert.ok((await readFile(join(server.dir, 'Large.bin'))).equals(large));
    const got = await bob.run(['get', 'Large.bin', ...on]);
    assert.equal(got.stdout, 'File received from Server: Large.bin\n', got.stderr);
    assert.ok((await readFile(join(bob.home, 'Large.bin'))).equals(large));
  });

  it('writes to a folder or a file path with -o', async () => {
    await mkdir(join(bob.home, 'in'));
    assert.equal((await bob.run(['get', 'Alice.bin', '-o', 'in', ...on])).code, 0);
    assert.ok((await readFile(join(bob.home, 'in', 'Alice.bin'))).equals(big));
    assert.equal((await bob.run(['get', 'Alice.bin', '--output', 'in/copy.bin', ...on])).code, 0);
    assert.ok((await readFile(join(bob.home, 'in', 'copy.bin'))).equals(big));
    assert.deepEqual((await readdir(join(bob.home, 'in'))).sort(), ['Alice.bin', 'copy.bin']);
  });

  it('replaces an existing local file only with the whole verified download', async () => {
    await writeFile(join(bob.home, 'Alice.bin'), 'old local content');
    assert.equal((await bob.run(['get', 'Alice.bin', ...on])).code, 0);
    assert.ok((await readFile(join(bob.home, 'Alice.bin'))).equals(big));
  });

  it('stores empty files and names with spaces and Unicode', async () => {
    const names = ['empty.txt', 'my file.txt', 'café ☕.md'];
    await writeFile(join(bob.home, names[0]!), '');
    await writeFile(join(bob.home, names[1]!), 'spaces');
    await writeFile(join(bob.home, names[2]!), 'unicode');
    for (const name of names) {
      const r = await bob.run(['store', name, ...on]);
      assert.match(r.stdout, uploadedLine('Bob', name));
    }
    const got = await makeUser();
    for (const name of names) {
      assert.equal((await got.run(['get', name, ...on, '--handle', 'Carol'])).code, 0);
      assert.equal(
        await readFile(join(got.home, name), 'utf8'),
        await readFile(join(bob.home, name), 'utf8'),
      );
    }
  });

  it('takes server and handle from FEX_SERVER and FEX_HANDLE', async () => {
    await writeFile(join(alice.home, 'env.txt'), 'from env');
    const r = await alice.run(['store', 'env.txt'], {
      env: { FEX_SERVER: server.address, FEX_HANDLE: 'Alice' },
    });
    assert.match(r.stdout, uploadedLine('Alice', 'env.txt'));
  });

  it('lists with --long: size, owner, time and checksum', async () => {
    const r = await bob.run(['dir', '--long', ...on]);
    const line = r.stdout.split('\n').find((l) => l.startsWith('Alice.bin\t'));
    assert.ok(line, r.stdout);
    const [, size, owner, time, checksum] = line.split('\t');
    assert.equal(Number(size), big.length);
    assert.equal(owner, 'Alice');
    assert.match(time ?? '', /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    assert.equal(checksum, sha256(big));
  });

  it('prints one JSON document with --json', async () => {
    const d = await bob.run(['dir', '--json', ...on]);
    const listing = JSON.parse(d.stdout) as {
      files: Array<{ name: string; size: number; owner: string; sha256: string }>;
    };
    const entry = listing.files.find((f) => f.name === 'Alice.bin');
    assert.deepEqual(
      { size: entry?.size, owner: entry?.owner, sha256: entry?.sha256 },
      { size: big.length, owner: 'Alice', sha256: sha256(big) },
    );
    const s = await alice.run(['store', 'env.txt', '--json', ...on]);
    const stored = JSON.parse(s.stdout) as { name: string; handle: string; size: number };
    assert.deepEqual([stored.name, stored.handle, stored.size], ['env.txt', 'Alice', 8]);
  });

  it('serves several clients storing and fetching at once', async () => {
    const users = await Promise.all([1, 2, 3, 4].map(() => makeUser()));
    const blobs = users.map(() => randomBytes(512 * 1024));
    await Promise.all(users.map((u, i) => writeFile(join(u.home, `c${i}.bin`), blobs[i]!)));
    const stores = await Promise.all(
      users.map((u, i) => u.run(['store', `c${i}.bin`, ...on, '--handle', `C${i}`])),
    );
    for (const r of stores) assert.equal(r.code, 0, r.stderr);
    const gets = await Promise.all(
      users.map((u, i) =>
        u.run(['get', `c${(i + 1) % 4}.bin`, '-o', 'x.bin', ...on, '--handle', `C${i}`]),
      ),
    );
    for (const r of gets) assert.equal(r.code, 0, r.stderr);
    for (const [i, u] of users.entries())
      assert.ok((await readFile(join(u.home, 'x.bin'))).equals(blobs[(i + 1) % 4]!));
  });
});
