/**
 * A disk that fills up in the middle of an upload: the client reads one line and exits 7, the
 * server keeps nothing of the upload (not even for a resume: the space goes back), and the
 * connection and the server go on. Two ways the failure comes:
 *
 * - from the disk itself: the real `fex serve` stores into a 2 MiB tmpfs this test mounts, so
 *   LocalStorage's own write gets ENOSPC from the kernel. Mounting needs root; without it the test
 *   is skipped with the reason, except under CI=true, where it must run and fails instead;
 * - from a storage backend that throws ENOSPC itself (a third-party one might), in-process.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Session } from '../../src/client/session.js';
import { FexError } from '../../src/shared/errors.js';
import { FexServer } from '../../src/server/server.js';
import { LocalStorage } from '../../src/server/storage/local-storage.js';
import type { PendingPut, PutOptions, Storage } from '../../src/server/storage/storage.js';
import {
  asideUploads,
  cleanup,
  makeUser,
  startServer,
  tempDir,
  uploadedLine,
  type User,
} from '../helpers/harness.js';

const MiB = 1024 * 1024;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Files in a folder, sorted. */
async function entries(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

/** Mounts a tmpfs of `bytes` at `dir`; the reason it cannot, or undefined once mounted. */
function mountTmpfs(dir: string, bytes: number): string | undefined {
  const run = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'fex-full', dir], {
    encoding: 'utf8',
  });
  if (run.error) return run.error.message;
  return run.status === 0 ? undefined : run.stderr.trim() || `mount exited with ${run.status}`;
}

/** Why a small file system cannot be mounted here, probed once; undefined if it can. */
async function whyNoTmpfs(): Promise<string | undefined> {
  const probe = await mkdtemp(join(tmpdir(), 'fex-tmpfs-probe-'));
  const why = mountTmpfs(probe, 64 * 1024);
  if (!why) spawnSync('umount', [probe]);
  await rmdir(probe);
  return why;
}

const noTmpfs = await whyNoTmpfs();
const skipDisk =
  noTmpfs && process.env.CI !== 'true'
    ? `cannot mount a small tmpfs here (${noTmpfs}); it runs as root, and always under CI=true`
    : false;

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

/** LocalStorage behind a backend that takes `room` bytes per upload, then throws ENOSPC itself. */
function fullBackend(dir: string, room: number): Storage {
  const inner = new LocalStorage(dir);
  const put = async (name: string, options: PutOptions): Promise<PendingPut> => {
    const pending = await inner.put(name, options);
    const write = async (body: AsyncIterable<Buffer>): Promise<number> => {
      let written = 0;
      let full = false;
      async function* limited(): AsyncGenerator<Buffer> {
        for await (const chunk of body) {
          if (written + chunk.length > room) {
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
  return delegate<Storage>(inner, { put });
}

interface FullServer {
  dir: string;
  port: number;
  stop(): Promise<unknown>;
}

const variants: Array<{ what: string; skip: string | false; start(): Promise<FullServer> }> = [
  {
    what: 'from the disk: the real server on a 2 MiB tmpfs',
    skip: skipDisk,
    async start() {
      const dir = join(await tempDir('fex-full-'), 'files');
      await mkdir(dir);
      const why = mountTmpfs(dir, 2 * MiB);
      if (why) throw new Error(`cannot mount a tmpfs at ${dir}: ${why}`);
      const server = await startServer({ dir }).catch((error: unknown) => {
        spawnSync('umount', [dir]);
        throw error;
      });
      return {
        dir,
        port: server.port,
        async stop() {
          await server.stop();
          spawnSync('umount', [dir]);
        },
      };
    },
  },
  {
    what: 'from a storage backend that throws ENOSPC',
    skip: false,
    async start() {
      const dir = join(await tempDir('fex-full-'), 'files');
      await mkdir(dir);
      const server = new FexServer({ dir, storage: fullBackend(dir, MiB), port: 0 });
      const { port } = await server.start();
      return { dir, port, stop: () => server.stop() };
    },
  },
];

for (const variant of variants) {
  describe(`a full disk, ${variant.what}`, { skip: variant.skip }, () => {
    let server: FullServer;
    let on: string[];
    let user: User;
    const big = randomBytes(4 * MiB);
    const small = randomBytes(100 * 1024);

    before(async () => {
      server = await variant.start();
      on = ['--server', `127.0.0.1:${server.port}`, '--handle', 'Fay'];
      user = await makeUser();
      await writeFile(join(user.home, 'big.bin'), big);
      await writeFile(join(user.home, 'small.bin'), small);
    });
    after(async () => {
      await server?.stop();
      await cleanup();
    });

    it('says so in one line, exits 7, keeps nothing, and stays in step', async () => {
      const r = await user.run(['store', 'big.bin', ...on]);
      assert.deepEqual(
        { code: r.code, stdout: r.stdout, stderr: r.stderr },
        { code: 7, stdout: '', stderr: 'Error: The server has no space left for this file.\n' },
      );
      assert.deepEqual(await entries(server.dir), ['.fex']);
      assert.deepEqual(await asideUploads(server.dir), [], 'the space of the upload is given back');

      const listing = await user.run(['dir', ...on]);
      assert.equal(listing.code, 0, JSON.stringify(listing));
      assert.equal(listing.stdout, 'Server Directory\n');
      const stored = await user.run(['store', 'small.bin', ...on]);
      assert.match(stored.stdout, uploadedLine('Fay', 'small.bin'), stored.stderr);
      assert.ok((await readFile(join(server.dir, 'small.bin'))).equals(small));
    });

    it('keeps the same connection usable after the refusal', async () => {
      const session = await Session.open({ host: '127.0.0.1', port: server.port });
      try {
        await session.register('Ses');
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
        assert.deepEqual(await entries(server.dir), ['.fex', 'other.bin', 'small.bin']);
        assert.deepEqual(await asideUploads(server.dir), []);
      } finally {
        await session.leave();
      }
    });
  });
}
