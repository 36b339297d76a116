/**
 * Faults injected into real processes: a client killed in the middle of an upload or a download,
 * the server killed in the middle of an upload (a disk that fills up is full-disk.test.ts). No
 * partial file becomes visible, no old version is damaged, an upload cut off is held in
 * .fex/partial (invisible) across the server's next start, and running the interrupted transfer
 * again resumes from the held bytes and completes it.
 *
 * To kill a transfer "in the middle" deterministically, the client talks to the server through a
 * small proxy in this process that forwards the first N bytes of one direction and then holds
 * the rest: the transfer is then certainly under way, and certainly not finished, when the kill
 * comes.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HoldingProxy } from '../helpers/holding-proxy.js';
import {
  asideUploads,
  BIN,
  cleanEnv,
  cleanup,
  makeUser,
  startServer,
  uploadedLine,
  type RunResult,
  type RunningServer,
  type User,
} from '../helpers/harness.js';
import { until as untilSeen } from '../helpers/until.js';

const MiB = 1024 * 1024;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

const until = <T>(what: string, probe: () => Promise<T>) =>
  untilSeen(what, probe, { seconds: 15, everyMs: 10 });

/** Files in a folder, or [] when it does not exist. */
async function entries(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}

interface Killable {
  child: ChildProcess;
  done: Promise<RunResult & { signal: NodeJS.Signals | null }>;
}

/** Children still running, with the promise of their end. */
const children = new Map<ChildProcess, Promise<unknown>>();

/** Runs `fex ...args` as `user` in a child process the test can kill. */
function spawnFex(user: User, args: string[], cwd = user.home): Killable {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: cleanEnv(user.home),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<RunResult & { signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  children.set(child, done);
  return { child, done };
}

async function killChildren(): Promise<void> {
  for (const [child, done] of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await done;
  }
}

interface Listed {
  name: string;
  size: number;
  owner: string;
  sha256: string;
}

/** `fex dir --long` parsed: name, size, owner and checksum of every line. */
async function dirLong(user: User, args: string[]): Promise<Listed[]> {
  const r = await user.run(['dir', '--long', ...args]);
  assert.equal(r.code, 0, JSON.stringify(r));
  const lines = r.stdout.split('\n').filter(Boolean);
  assert.equal(lines.shift(), 'Server Directory');
  return lines.map((line) => {
    const [name, size, owner, , checksum] = line.split('\t');
    return { name: name!, size: Number(size), owner: owner!, sha256: checksum! };
  });
}

describe('a client killed with SIGKILL in the middle of an upload', () => {
  let server: RunningServer;
  let proxy: HoldingProxy;
  let user: User;
  const kept = randomBytes(256 * 1024);
  const huge = randomBytes(32 * MiB);

  before(async () => {
    server = await startServer();
    proxy = await new HoldingProxy(server.port).start();
    user = await makeUser();
    await writeFile(join(user.home, 'kept.bin'), kept);
    await writeFile(join(user.home, 'huge.bin'), huge);
    const r = await user.run(['store', 'kept.bin', '--server', proxy.address, '--handle', 'Kim']);
    assert.match(r.stdout, uploadedLine('Kim', 'kept.bin'), r.stderr);
  });
  after(async () => {
    await killChildren();
    await proxy.stop();
    await cleanup();
  });

  it('leaves nothing visible, and keeps the upload resumable across a restart', async () => {
    // The client is killed: the proxy must keep reading to see it go.
    proxy.limits = { up: 4 * MiB, drop: true };
    const held = proxy.holding();
    const upload = spawnFex(user, ['store', 'huge.bin', '--server', proxy.address]);
    await held;
    // The server has begun writing the upload aside: it is under way, and cannot finish.
    await until('a partial upload on the server', async () =>
      (await asideUploads(server.dir)).some((p) => p.size > 0),
    );
    upload.child.kill('SIGKILL');
    assert.equal((await upload.done).signal, 'SIGKILL');
    proxy.limits = {};

    // The name is not listed, and nothing partial is in the server directory.
    const listed = await dirLong(user, ['--server', proxy.address]);
    assert.deepEqual(
      listed.map((f) => f.name),
      ['kept.bin'],
    );
    assert.deepEqual(await entries(server.dir), ['.fex', 'kept.bin']);

    // After a clean stop and a new start on the same folder: the cut-off upload is still held
    // in .fex/partial, as many bytes as before, nothing else is aside, nothing is visible.
    assert.equal(await server.stop(), 0);
    const aside = await asideUploads(server.dir);
    assert.equal(aside.length, 1, JSON.stringify(aside));
    assert.match(aside[0]!.name, /^partial\/[0-9a-f]{64}\.part$/);
    assert.ok(aside[0]!.size > 0 && aside[0]!.size < huge.length, JSON.stringify(aside));
    server = await startServer({ dir: server.dir });
    proxy.target = server.port;
    assert.deepEqual(await asideUploads(server.dir), aside);
    assert.deepEqual(await entries(server.dir), ['.fex', 'kept.bin']);
    const again = await dirLong(user, ['--server', proxy.address]);
    assert.deepEqual(
      again.map((f) => [f.name, f.size, f.sha256]),
      [['kept.bin', kept.length, sha256(kept)]],
    );

    // Nothing lost: the same upload, run again, resumes where the held bytes end, completes
    // whole, and leaves nothing aside.
    const retry = await user.run(['store', 'huge.bin', '--server', proxy.address, '--json']);
    assert.equal(retry.code, 0, retry.stderr);
    assert.equal(JSON.parse(retry.stdout).resumedFrom, aside[0]!.size);
    assert.ok((await readFile(join(server.dir, 'huge.bin'))).equals(huge));
    assert.deepEqual(await asideUploads(server.dir), []);
  });
});

describe('the server killed with SIGKILL in the middle of uploads', () => {
  let server: RunningServer;
  let proxy: HoldingProxy;
  let user: User;
  const kept = randomBytes(300 * 1024);
  const oldVersion = randomBytes(400 * 1024);
  const newVersion = randomBytes(16 * MiB);
  const fresh = randomBytes(16 * MiB);

  before(async () => {
    server = await startServer();
    proxy = await new HoldingProxy(server.port).start();
    user = await makeUser();
    await mkdir(join(user.home, 'new'));
    await writeFile(join(user.home, 'kept.bin'), kept);
    await writeFile(join(user.home, 'replaced.bin'), oldVersion);
    await writeFile(join(user.home, 'new', 'replaced.bin'), newVersion);
    await writeFile(join(user.home, 'fresh.bin'), fresh);
    for (const name of ['kept.bin', 'replaced.bin']) {
      const r = await user.run(['store', name, '--server', proxy.address, '--handle', 'Sam']);
      assert.match(r.stdout, uploadedLine('Sam', name), r.stderr);
    }
  });
  after(async () => {
    await killChildren();
    await proxy.stop();
    await cleanup();
  });

  it('fails the clients with one clear Error line and keeps only whole files', async () => {
    proxy.limits = { up: 2 * MiB };
    const on = ['--server', proxy.address];
    const held = proxy.holding(2);
    const uploads = [
      spawnFex(user, ['store', join('new', 'replaced.bin'), ...on]),
      spawnFex(user, ['store', 'fresh.bin', ...on]),
    ];
    await held;
    await until('two partial uploads on the server', async () => {
      const aside = await asideUploads(server.dir);
      return aside.length === 2 && aside.every((p) => p.size > 0);
    });
    server.process.kill('SIGKILL');
    await server.stop();
    const results = await Promise.all(uploads.map((u) => u.done));
    proxy.limits = {};
    for (const r of results) {
      const context = JSON.stringify(r);
      assert.equal(r.signal, null, context);
      assert.equal(r.stdout, '', context);
      assert.match(r.stderr, /^Error: Connection to the server was lost[^\n]*\n$/, context);
      assert.equal(r.code, 3, context);
    }

    // Nothing partial visible, and the replaced file is whole: the old version or the new one.
    assert.deepEqual(await entries(server.dir), ['.fex', 'kept.bin', 'replaced.bin']);
    const replaced = await readFile(join(server.dir, 'replaced.bin'));
    assert.ok(replaced.equals(oldVersion) || replaced.equals(newVersion), 'replaced.bin damaged');
    assert.ok((await readFile(join(server.dir, 'kept.bin'))).equals(kept));

    // Both cut-off uploads are cut in .fex/partial; the restart keeps them as they are.
    const cut = await asideUploads(server.dir);
    assert.equal(cut.length, 2, JSON.stringify(cut));
    for (const part of cut) {
      assert.match(part.name, /^partial\/[0-9a-f]{64}\.part$/);
      assert.ok(part.size > 0, JSON.stringify(cut));
    }

    // The restarted server lists exactly the completed files, with their checksums.
    server = await startServer({ dir: server.dir });
    proxy.target = server.port;
    assert.deepEqual(await asideUploads(server.dir), cut);
    const listed = await dirLong(user, on);
    assert.deepEqual(
      listed.map((f) => [f.name, f.size, f.owner, f.sha256]),
      [
        ['kept.bin', kept.length, 'Sam', sha256(kept)],
        ['replaced.bin', replaced.length, 'Sam', sha256(replaced)],
      ],
    );
    const back = await user.run(['get', 'replaced.bin', '-o', 'back.bin', ...on]);
    assert.equal(back.code, 0, JSON.stringify(back));
    assert.ok((await readFile(join(user.home, 'back.bin'))).equals(replaced));

    // Nothing lost: the interrupted uploads, run again, resume from the cut bytes and complete.
    const resumedFrom = [];
    for (const path of [join('new', 'replaced.bin'), 'fresh.bin']) {
      const r = await user.run(['store', path, ...on, '--json']);
      assert.equal(r.code, 0, JSON.stringify(r));
      resumedFrom.push(JSON.parse(r.stdout).resumedFrom as number);
    }
    assert.deepEqual(
      resumedFrom.sort((a, b) => a - b),
      cut.map((part) => part.size).sort((a, b) => a - b),
    );
    assert.ok((await readFile(join(server.dir, 'replaced.bin'))).equals(newVersion));
    assert.ok((await readFile(join(server.dir, 'fresh.bin'))).equals(fresh));
    assert.deepEqual(await asideUploads(server.dir), []);
  });
});

describe('a client killed with SIGKILL in the middle of a download', () => {
  let server: RunningServer;
  let proxy: HoldingProxy;
  let user: User;
  const big = randomBytes(12 * MiB);

  before(async () => {
    server = await startServer();
    proxy = await new HoldingProxy(server.port).start();
    const owner = await makeUser();
    user = await makeUser();
    await writeFile(join(owner.home, 'big.bin'), big);
    const r = await owner.run(['store', 'big.bin', '--server', server.address, '--handle', 'Dee']);
    assert.match(r.stdout, uploadedLine('Dee', 'big.bin'), r.stderr);
    // Claim the downloader's handle first, so the killed runs only log in.
    const reg = await user.run(['register', 'Gus', '--server', proxy.address]);
    assert.equal(reg.code, 0, reg.stderr);
  });
  after(async () => {
    await killChildren();
    await proxy.stop();
    await cleanup();
  });

  it('leaves no file under the name, and an older file there untouched', async () => {
    const fresh = join(user.home, 'fresh');
    const existing = join(user.home, 'existing');
    await mkdir(fresh);
    await mkdir(existing);
    const oldLocal = Buffer.from('the old local version, whole\n');
    await writeFile(join(existing, 'big.bin'), oldLocal);

    proxy.limits = { down: 2 * MiB };
    const on = ['--server', proxy.address];
    const held = proxy.holding(2);
    const downloads = [
      spawnFex(user, ['get', 'big.bin', '-o', fresh, ...on]),
      spawnFex(user, ['get', 'big.bin', '-o', existing, ...on]),
    ];
    await held;
    // Both clients are writing the download aside: under way, and unable to finish.
    for (const dir of [fresh, existing])
      await until(`a partial download in ${dir}`, async () => {
        for (const name of await entries(dir))
          if (name.endsWith('.fex-part') && (await stat(join(dir, name))).size > 0) return true;
        return false;
      });
    for (const d of downloads) d.child.kill('SIGKILL');
    for (const r of await Promise.all(downloads.map((d) => d.done)))
      assert.equal(r.signal, 'SIGKILL');
    proxy.limits = {};

    // Only hidden aside files may remain; the name is absent, or the old version whole.
    const aside = /^\.[^/]*\.fex-part(\.json)?$/;
    const left = await entries(fresh);
    assert.ok(!left.includes('big.bin'), `partial download visible: ${left.join(', ')}`);
    for (const name of left) assert.match(name, aside);
    for (const name of (await entries(existing)).filter((n) => n !== 'big.bin'))
      assert.match(name, aside);
    assert.ok((await readFile(join(existing, 'big.bin'))).equals(oldLocal), 'old version damaged');

    // The server is unharmed, and downloads that are let through arrive whole, leaving nothing.
    for (const dir of [fresh, existing]) {
      const r = await user.run(['get', 'big.bin', '-o', dir, ...on]);
      assert.equal(r.code, 0, JSON.stringify(r));
      assert.ok((await readFile(join(dir, 'big.bin'))).equals(big));
      assert.deepEqual(await entries(dir), ['big.bin']);
    }
  });
});
