/**
 * docs/scaling.md's "Running it", run as written: its `<!-- cluster-doc: start -->` block (Redis,
 * three `fex serve --storage s3:// --state redis://` and haproxy), its `client` transcript (each
 * `$ command` and what it prints) and its `stop` block, in one bash, with the real `fex` on the
 * PATH, in a folder of its own. Only the ports (6379, 7000-7003), the object store's address and
 * the bucket are swapped for this test's own; the S3 keys are those of the test Swift.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BIN, cleanEnv, cleanup, ROOT, tempDir } from '../helpers/harness.js';
import { freePort, needService } from '../helpers/services.js';
import { dropBucket, newBucket, objectKeys, testS3Client } from '../helpers/s3-services.js';

const MARK = '@@fex-cluster-doc-step@@';
const TIME = /<\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}>/g;

/** The fenced block after `<!-- cluster-doc: NAME -->`. */
function block(markdown: string, name: string): string {
  const match = new RegExp(
    `<!-- cluster-doc: ${name} -->\\n\\n\`\`\`\\w+\\n([\\s\\S]*?)\`\`\``,
  ).exec(markdown);
  assert.ok(match, `docs/scaling.md has no cluster-doc: ${name} block`);
  return match[1]!;
}

/** A transcript's steps: each `$ command` and the lines it prints. */
function steps(transcript: string): Array<{ command: string; expected: string[] }> {
  const out: Array<{ command: string; expected: string[] }> = [];
  for (const line of transcript.replace(/\n$/, '').split('\n')) {
    if (line.startsWith('$ ')) out.push({ command: line.slice(2), expected: [] });
    else out.at(-1)!.expected.push(line);
  }
  return out;
}

async function isFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A number K such that the ports K0 to K3 are free: the doc's `700` becomes K. */
async function freePortRange(): Promise<string> {
  for (;;) {
    // Below Linux's ephemeral range (32768 on): no outgoing connection takes one meanwhile.
    const k = 1000 + Math.floor(Math.random() * 2200);
    const all = await Promise.all([0, 1, 2, 3].map((n) => isFree(k * 10 + n)));
    if (all.every(Boolean)) return String(k);
  }
}

/** Stops a daemon the doc started, by the PID in its pid file, if the doc's stop left it. */
async function stopByPidFile(path: string): Promise<void> {
  const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
  if (!pid) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already, as the stop block meant
  }
}

describe('docs/scaling.md', () => {
  after(cleanup);

  it(
    'runs a cluster with the commands of "Running it", as written',
    { timeout: 240_000 },
    async (t) => {
      const endpoint = needService(t, 's3');
      const haproxy = needService(t, 'haproxy');
      if (!endpoint || !haproxy || !needService(t, 'redis')) return;
      const markdown = await readFile(join(ROOT, 'docs', 'scaling.md'), 'utf8');
      const s3 = testS3Client(endpoint);
      const bucket = await newBucket(s3);
      after(async () => {
        await dropBucket(s3, bucket).catch(() => undefined);
        s3.destroy();
      });
      const ports = await freePortRange();
      const redisPort = String(await freePort());
      // The doc's ports first: the values put in afterwards (a port, a bucket) may hold "700".
      const ours = (text: string) =>
        text
          .replaceAll('700', ports)
          .replaceAll('6379', redisPort)
          .replaceAll('http://127.0.0.1:8080', endpoint)
          .replaceAll('s3://fex-files/', `s3://${bucket}/`);

      const work = await tempDir('fex-cluster-doc-');
      const bin = join(work, '.bin');
      await mkdir(bin);
      await symlink(BIN, join(bin, 'fex'));
      const client = steps(block(markdown, 'client'));
      const script = [
        'set -e',
        ours(block(markdown, 'start')),
        ...client.map(({ command }) => `echo ${MARK}\n${ours(command)} 2>&1`),
        `echo ${MARK}`,
        ours(block(markdown, 'stop')),
      ].join('\n');
      const env = cleanEnv(work, {
        PATH: [bin, dirname(haproxy), process.env.PATH ?? ''].join(':'),
      });
      // In a process group of its own, so whatever the doc left running goes with the test.
      const bash = spawn('bash', ['-c', script], { cwd: work, env, detached: true });
      after(async () => {
        try {
          process.kill(-bash.pid!, 'SIGKILL');
        } catch {
          // the group has ended
        }
        await stopByPidFile(join(work, 'fex-haproxy.pid'));
        await stopByPidFile(join(work, 'fex-redis.pid'));
      });
      let stdout = '';
      let stderr = '';
      bash.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      bash.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      // A doc whose servers never come up would wait for ever: cut it off, and show the logs.
      const limit = setTimeout(() => process.kill(-bash.pid!, 'SIGKILL'), 120_000);
      const code = await new Promise<number | null>((resolve) => bash.once('close', resolve));
      clearTimeout(limit);
      const logs = await Promise.all(
        [1, 2, 3].map((n) => readFile(join(work, `fex-${n}.log`), 'utf8').catch(() => '')),
      );
      assert.equal(code, 0, `${stdout}\n${stderr}\n${logs.join('\n')}`);

      const printed = stdout.split(`${MARK}\n`).slice(1, -1);
      assert.equal(printed.length, client.length, stdout);
      for (const [i, { command, expected }] of client.entries()) {
        const shown = expected.map((line) => `${line}\n`).join('');
        assert.equal(printed[i]!.replace(TIME, '<T>'), shown.replace(TIME, '<T>'), `$ ${command}`);
      }
      // The three servers ran on the object store, and the file is there as one private object.
      for (const log of logs)
        assert.match(log, new RegExp(`storing files in s3://${bucket}/team-a`));
      assert.equal((await objectKeys(s3, bucket, 'team-a/objects/')).length, 1);
      // The stop block stopped everything: Redis, haproxy and the servers freed their ports.
      for (const port of [redisPort, ...[0, 1, 2, 3].map((n) => `${ports}${n}`)])
        assert.ok(await isFree(Number(port)), `port ${port} is still taken after the stop block`);
    },
  );
});
