/**
 * Faults injected into real processes: a client killed in the middle of an upload or a download,
 * the server killed in the middle of an upload, and a disk that fills up. Whatever happens, no
 * partial file becomes visible, no old version is damaged, the server's next start leaves no
 * debris in .fex/tmp, and running the interrupted transfer again completes it. (An upload cut off
 * may wait in .fex/partial, invisible, to be resumed: that is by design, not debris.)
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
import { setTimeout as delay } from 'node:timers/promises';
import { Session } from '../../src/client/session.js';
import { FexError } from '../../src/protocol/errors.js';
import { FexServer } from '../../src/server/server.js';
import { HoldingProxy } from '../helpers/holding-proxy.js';
import { LocalStorage } from '../../src/server/storage/local-storage.js';
import type { PendingPut, PutOptions, Storage } from '../../src/server/storage/storage.js';
import {
  BIN,
  cleanEnv,
  cleanup,
  makeUser,
  startServer,
  tempDir,
  uploadedLine,
  type RunResult,
  type RunningServer,
  type User,
} from '../helpers/harness.js';

const MiB = 1024 * 1024;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Polls `probe` until it gives a truthy value; fails after `timeoutMs`. */
async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false | null>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

/** Files in a folder, or [] when it does not exist. */
async function entries(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}

/**
 * The uploads the server is writing aside, with their sizes: resumable ones in .fex/partial,
 * the others in .fex/tmp.
 */
async function partials(dir: string): Promise<Array<{ name: string; size: number }>> {
  const out = [];
  for (const folder of ['tmp', 'partial']) {
    const aside = join(dir, '.fex', folder);
    for (const name of await entries(aside)) {
      const info = await stat(join(aside, name)).catch(() => undefined);
      if (info) out.push({ name: `${folder}/${name}`, size: info.size });
    }
  }
  return out;
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

  it('leaves nothing visible, and no debris in .fex/tmp after the next start', async () => {
    // The client is killed: the proxy must keep reading to see it go.
    proxy.limits = { up: 4 * MiB, drop: true };
    const held = proxy.holding();
    const upload = spawnFex(user, ['store', 'huge.bin', '--server', proxy.address]);
    await held;
    // The server has begun writing the upload aside: it is under way, and cannot finish.
    await until('a partial upload on the server', async () =>
      (await partials(server.dir)).some((p) => p.size > 0),
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

    // After a clean stop and a new start on the same folder: no debris, still nothing visible.
    assert.equal(await server.stop(), 0);
    server = await startServer({ dir: server.dir });
    proxy.target = server.port;
    assert.deepEqual(await entries(join(server.dir, '.fex', 'tmp')), []);
    assert.deepEqual(await entries(server.dir), ['.fex', 'kept.bin']);
    const again = await dirLong(user, ['--server', proxy.address]);
    assert.deepEqual(
      again.map((f) => [f.name, f.size, f.sha256]),
      [['kept.bin', kept.length, sha256(kept)]],
    );

    // Nothing lost: the same upload, run again, completes whole, and leaves nothing aside.
    const retry = await user.run(['store', 'huge.bin', '--server', proxy.address]);
    assert.match(retry.stdout, uploadedLine('Kim', 'huge.bin'), retry.stderr);
    assert.ok((await readFile(join(server.dir, 'huge.bin'))).equals(huge));
    assert.deepEqual(await partials(server.dir), []);
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
      const aside = await partials(server.dir);
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

    // The restarted server lists exactly the completed files, with their checksums.
    server = await startServer({ dir: server.dir });
    proxy.target = server.port;
    assert.deepEqual(await entries(join(server.dir, '.fex', 'tmp')), []);
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

    // Nothing lost: the interrupted uploads, run again, complete whole.
    for (const path of [join('new', 'replaced.bin'), 'fresh.bin']) {
      const r = await user.run(['store', path, ...on]);
      assert.equal(r.code, 0, JSON.stringify(r));
    }
    assert.ok((await readFile(join(server.dir, 'replaced.bin'))).equals(newVersion));
    assert.ok((await readFile(join(server.dir, 'fresh.bin'))).equals(fresh));
    assert.deepEqual(await partials(server.dir), []);
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

/** The error a full disk gives: an Error with the errno code, as node:fs makes them. */
function enospc(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), {
    code: 'ENOSPC',
    errno: -28,
    syscall: 'write',
  });
}

/** `target`, with some members replaced; everything else (present and future) passes through. */
function delegate<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(t, prop) {
      if (Object.hasOwn(overrides, prop)) return (overrides as Record<PropertyKey, unknown>)[prop];
      const value: unknown = Reflect.get(t, prop, t);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
    },
  });
}

/**
 * LocalStorage on a disk with room for `room` bytes per upload. `where` says where the error
 * comes from: from the disk under LocalStorage's own writes ('disk'), or thrown as is by the
 * backend's PendingPut.write ('backend'), as a third-party storage might.
 */
function fullDiskStorage(dir: string, room: number, where: 'disk' | 'backend') {
  const inner = new LocalStorage(dir);
  const counts = { puts: 0 };
  const put = async (name: string, options: PutOptions): Promise<PendingPut> => {
    counts.puts += 1;
    const pending = await inner.put(name, options);
    const write = async (body: AsyncIterable<Buffer>): Promise<number> => {
      let written = 0;
      let full = false;
      async function* limited(): AsyncGenerator<Buffer> {
        for await (const chunk of body) {
          if (written + chunk.length > room) {
            if (where === 'disk') throw enospc();
            full = true;
            return;
          }
          written += chunk.length;
          yield chunk;
        }
      }
      const n = await pending.write(limited());
      if (full) throw enospc();
      return n;
    };
    return delegate<PendingPut>(pending, { write });
  };
  return { storage: delegate<Storage>(inner, { put }), counts };
}

for (const where of ['disk', 'backend'] as const) {
  describe(`a full disk (ENOSPC from the ${where === 'disk' ? 'disk under LocalStorage' : 'storage backend'})`, () => {
    let server: FexServer;
    let counts: { puts: number };
    let dir: string;
    let address: string;
    let port: number;
    let user: User;
    const big = randomBytes(4 * MiB);
    const small = randomBytes(100 * 1024);

    before(async () => {
      dir = join(await tempDir('fex-full-'), 'files');
      await mkdir(dir);
      const full = fullDiskStorage(dir, MiB, where);
      counts = full.counts;
      server = new FexServer({ dir, storage: full.storage, port: 0 });
      ({ port } = await server.start());
      address = `127.0.0.1:${port}`;
      user = await makeUser();
      await writeFile(join(user.home, 'big.bin'), big);
      await writeFile(join(user.home, 'small.bin'), small);
    });
    after(async () => {
      await server.stop();
      await cleanup();
    });

    it('says so in one line, exits 7, keeps nothing, and stays in step', async () => {
      const on = ['--server', address, '--handle', 'Fay'];
      const r = await user.run(['store', 'big.bin', ...on]);
      assert.deepEqual(
        { code: r.code, stdout: r.stdout, stderr: r.stderr },
        { code: 7, stdout: '', stderr: 'Error: The server has no space left for this file.\n' },
      );
      assert.equal(counts.puts, 1);
      assert.deepEqual(await entries(dir), ['.fex']);
      assert.deepEqual(await entries(join(dir, '.fex', 'tmp')), []);

      const listing = await user.run(['dir', ...on]);
      assert.equal(listing.code, 0, JSON.stringify(listing));
      assert.equal(listing.stdout, 'Server Directory\n');
      const stored = await user.run(['store', 'small.bin', ...on]);
      assert.match(stored.stdout, uploadedLine('Fay', 'small.bin'), stored.stderr);
      assert.ok((await readFile(join(dir, 'small.bin'))).equals(small));
    });

    it('keeps the same connection usable after the refusal', async () => {
      const session = await Session.open({ host: '127.0.0.1', port });
      try {
        await session.register(`Ses${where}`);
        await assert.rejects(session.store(join(user.home, 'big.bin')), (error: unknown) => {
          assert.ok(error instanceof FexError, String(error));
          assert.equal(error.code, 'E_DISK_FULL');
          return true;
        });
        const files = await session.dir();
        assert.deepEqual(
          files.map((f) => f.name),
          ['small.bin'],
        );
        await writeFile(join(user.home, 'other.bin'), small.subarray(0, 1000));
        const entry = await session.store(join(user.home, 'other.bin'));
        assert.equal(entry.sha256, sha256(small.subarray(0, 1000)));
        assert.deepEqual(await entries(dir), ['.fex', 'other.bin', 'small.bin']);
        assert.deepEqual(await entries(join(dir, '.fex', 'tmp')), []);
      } finally {
        await session.leave();
      }
    });
  });
}
