/**
 * Issue 15, item 10: every acknowledged state change is durable before its answer. A rename is
 * durable only once its folder is flushed; `handles.json` used to be renamed into `.fex` without
 * that, so an acknowledged handle could vanish in a power cut and be claimed by someone else.
 * A power cut cannot be staged here, so the server runs under strace and the order of its system
 * calls is checked: rename, then fsync of the folder, then the answer.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanup, makeUser, startServer, tempDir, type RunningServer } from '../helpers/harness.js';

/** Whether strace runs and may trace here (ptrace can be forbidden in containers). */
function straceWorks(): boolean {
  return spawnSync('strace', ['-f', '-o', '/dev/null', 'true']).status === 0;
}

const available = straceWorks();
if (!available && process.env.CI === 'true')
  throw new Error('strace is needed for the durability tests, and CI must run them');

/** Index of the first line at or after `from` that passes `test`, or -1. */
const findFrom = (lines: string[], from: number, test: (line: string) => boolean) => {
  for (let i = Math.max(0, from); i < lines.length; i++) if (test(lines[i]!)) return i;
  return -1;
};

describe(
  'durability of acknowledged state',
  { skip: available ? false : 'strace is not available or may not trace here' },
  () => {
    let server: RunningServer;
    let trace: string;
    let dir: string;

    before(async () => {
      const base = await tempDir('fex-durable-');
      trace = join(base, 'trace');
      dir = join(base, 'files');
      const calls =
        'trace=openat,rename,renameat,renameat2,fsync,fdatasync,write,writev,mkdir,mkdirat';
      server = await startServer({
        dir,
        under: ['strace', '-f', '-y', '-s', '256', '-e', calls, '-o', trace],
      });
    });
    after(async () => {
      // Killing strace would leave the server it traces running: stop the server itself.
      const tracer = server.process.pid;
      const children = await readFile(`/proc/${tracer}/task/${tracer}/children`, 'utf8');
      for (const pid of children.trim().split(/\s+/).filter(Boolean)) process.kill(Number(pid));
      await server.stop();
      await cleanup();
    });

    /** The trace so far, one system call (or its first half) per line. */
    const lines = async () => (await readFile(trace, 'utf8')).split('\n');
    /** Whether the line flushes the folder `folder` (strace -y prints the fd's path). */
    const fsyncOf = (folder: string) => (line: string) =>
      /\bf(data)?sync\(\d+</.test(line) && line.includes(`<${folder}>`);

    it('flushes .fex after renaming handles.json, before answering register', async () => {
      const user = await makeUser();
      const r = await user.run(['register', 'Durable', '--server', server.address]);
      assert.equal(r.code, 0, r.stderr);
      const calls = await lines();
      const renamed = findFrom(calls, 0, (l) => /rename/.test(l) && l.includes('handles.json.tmp'));
      assert.ok(renamed >= 0, 'handles.json is renamed into place');
      const synced = findFrom(calls, renamed, fsyncOf(join(dir, '.fex')));
      const answered = findFrom(calls, renamed, (l) => /write/.test(l) && l.includes('credential'));
      assert.ok(answered > renamed, 'the answer is written after the rename');
      assert.ok(synced > renamed && synced < answered, 'the folder is flushed before the answer');
    });

    it('flushes the folders and files it creates before listening', async () => {
      const calls = await lines();
      const listening = findFrom(calls, 0, (l) => l.includes('fex server listening'));
      const made = findFrom(calls, 0, (l) => /mkdir/.test(l) && l.includes(join(dir, '.fex')));
      assert.ok(made >= 0 && made < listening, '.fex is made before listening');
      const rootSynced = findFrom(calls, made, fsyncOf(dir));
      assert.ok(rootSynced > made && rootSynced < listening, 'the root is flushed after mkdir');
      const renamed = findFrom(calls, 0, (l) => /rename/.test(l) && l.includes('server-id.tmp'));
      const synced = findFrom(calls, renamed, fsyncOf(join(dir, '.fex')));
      assert.ok(renamed >= 0 && synced > renamed && synced < listening, 'server-id is flushed');
      const journal = join(dir, '.fex', 'journal');
      const created = findFrom(
        calls,
        0,
        (l) => l.includes(`"${journal}"`) && l.includes('O_CREAT'),
      );
      const entered = findFrom(calls, created, fsyncOf(join(dir, '.fex')));
      assert.ok(created >= 0 && entered > created && entered < listening, 'the journal is flushed');
    });
  },
);
