/**
 * The server's log (issue 12), read from the real `fex serve`'s stdout while real clients (the
 * binary, and bare protocol clients for what the binary never sends) join, register, store, fetch,
 * get refused and cancel: every event is one line with who, what and the outcome, and nothing a
 * client does puts a stack trace on stderr. The same events as JSON lines with --log-format json.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  cleanup,
  makeUser,
  ROOT,
  startServer,
  tempDir,
  type RunningServer,
  type User,
} from '../helpers/harness.js';
import { greeted } from '../helpers/raw-client.js';
import { encodeHeader } from '../../src/protocol/frame.js';

const TIME = String.raw`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}`;
const ADDR = String.raw`127\.0\.0\.1:\d+`;
/** A whole text log line: the time, then `rest`. */
const line = (rest: string) => new RegExp(`^${TIME} ${rest}$`);
const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const BIG = 8 * 1024 * 1024;
// A line that never comes must fail its test, not hang the run.
const LIMIT = { timeout: 60_000 };

/** A server with the quota plugin: 9 MiB per handle, files of at most 8 MiB. */
async function serverWithQuota(args: string[] = []): Promise<RunningServer> {
  const dir = await tempDir('fex-log-');
  const config = join(dir, 'fex.json');
  await writeFile(
    config,
    JSON.stringify({
      plugins: [{ module: join(ROOT, 'plugins', 'quota'), options: { quota: '9MiB' } }],
      limits: { maxFileSize: '8MiB' },
    }),
  );
  return startServer({ dir: join(dir, 'files'), args: ['--config', config, ...args] });
}

/** Starts an upload in steps over a bare connection, sends 1000 of its 100,000 bytes, cuts off. */
async function cutUpload(port: number, handle: string, name: string): Promise<void> {
  const client = await greeted(port, handle);
  client.send({ type: 'store', id: 3, name, size: 100_000 });
  assert.equal((await client.next())?.type, 'continue');
  client.sendBytes(encodeHeader({ type: 'data', id: 3, offset: 0, body: 100_000 }));
  client.sendBytes(randomBytes(1000));
  client.close();
}

describe('the server log', () => {
  let server: RunningServer;
  let ann: User;
  let bob: User;
  const big = randomBytes(BIG);

  before(async () => {
    server = await serverWithQuota();
    ann = await makeUser();
    bob = await makeUser();
    await writeFile(join(ann.home, 'Hello.txt'), 'Hello\n');
    await writeFile(join(ann.home, 'big.bin'), big);
    await writeFile(join(bob.home, 'Hello.txt'), 'not yours\n');
  });
  after(cleanup);

  it(
    'logs join, registration, login with a saved credential, store, get, dir and leave',
    LIMIT,
    async () => {
      const on = ['--server', server.address];
      assert.equal((await ann.run(['register', 'Ann', ...on])).code, 0);
      assert.equal((await ann.run(['store', 'Hello.txt', ...on])).code, 0);
      assert.equal((await ann.run(['store', 'big.bin', ...on])).code, 0);
      assert.equal((await ann.run(['get', 'Hello.txt', '-o', 'copy.txt', ...on])).code, 0);
      assert.equal((await ann.run(['dir', ...on])).code, 0);
      await server.waitForLine(/Ann \(.+\) left \(\d+ requests\)$/);
      const expected = [
        line(`${ADDR} joined`),
        line(`${ADDR} registered Ann`),
        line(`Ann \\(${ADDR}\\) left \\(3 requests\\)`),
        line(`${ADDR} logged in as Ann with a saved credential`),
        line(`Ann stored Hello\\.txt \\(6 bytes\\)`),
        line(`Ann stored big\\.bin \\(${BIG} bytes\\)`),
        line(`Ann fetched Hello\\.txt \\(6 bytes\\)`),
        line(`Ann listed the directory \\(2 files\\)`),
      ];
      for (const pattern of expected)
        assert.ok(
          server.output.some((l) => pattern.test(l)),
          `${pattern} in:\n${server.output.join('\n')}`,
        );
    },
  );

  it('logs each refusal with who, what and why', LIMIT, async () => {
    const on = ['--server', server.address];
    // A taken handle, from another account.
    assert.equal((await bob.run(['register', 'Ann', ...on])).code, 5);
    await server.waitForLine(/register Ann refused \(E_HANDLE_TAKEN\)/);
    // Not the owner.
    assert.equal((await bob.run(['store', 'Hello.txt', ...on, '--handle', 'Bob'])).code, 6);
    await server.waitForLine(line('Bob store Hello\\.txt refused \\(E_NOT_OWNER\\): .+'));
    // A missing file.
    assert.equal((await bob.run(['get', 'Nothing.txt', ...on, '--handle', 'Bob'])).code, 4);
    await server.waitForLine(
      line('Bob get Nothing\\.txt refused \\(E_NOT_FOUND\\): File not found in the server\\.'),
    );
    // Over the quota plugin's 9 MiB: Ann holds 8 MiB and 6 bytes.
    await writeFile(join(ann.home, 'more.bin'), randomBytes(2 * 1024 * 1024));
    assert.equal((await ann.run(['store', 'more.bin', ...on])).code, 10);
    await server.waitForLine(
      line('Ann store more\\.bin refused \\(E_QUOTA_EXCEEDED\\): Quota exceeded: .+'),
    );
    // What the binary never sends: a bad name (with an escape sequence), a file too large.
    const raw = await greeted(server.port, 'Raw');
    raw.send({ type: 'store', id: 3, name: 'evil\u001b[31m/x', size: 1 });
    assert.equal((await raw.next())?.code, 'E_BAD_NAME');
    raw.send({ type: 'store', id: 4, name: 'huge.bin', size: BIG + 1 });
    assert.equal((await raw.next())?.code, 'E_TOO_LARGE');
    raw.close();
    await server.waitForLine(
      line(String.raw`Raw store "evil\\u001b\[31m/x" refused \(E_BAD_NAME\): .+`),
    );
    await server.waitForLine(line('Raw store huge\\.bin refused \\(E_TOO_LARGE\\): .+'));
    await server.waitForLine(line(`Raw \\(${ADDR}\\) disconnected: .+`));
  });

  it(
    'logs cancelled uploads and downloads as one line each, with no stack trace',
    LIMIT,
    async () => {
      await cutUpload(server.port, 'Cutter', 'cut.bin');
      await server.waitForLine(line('Cutter store cut\\.bin cancelled: .+'));
      await server.waitForLine(
        line(
          `Cutter \\(${ADDR}\\) disconnected: the client closed the connection without leaving .+`,
        ),
      );
      // A download the client stops reading after its first bytes, then drops.
      const reader = await greeted(server.port, 'Reader');
      reader.send({ type: 'get', id: 3, name: 'big.bin' });
      const answer = await reader.next();
      assert.equal(answer?.type, 'ok');
      assert.equal(answer?.sha256, sha(big));
      reader.socket.resetAndDestroy();
      await server.waitForLine(line('Reader get big\\.bin cancelled: .+'));
      await server.waitForLine(line(`Reader \\(${ADDR}\\) disconnected: .+`));
      assert.equal(server.stderr(), '', 'nothing on stderr: no stack trace for what a client did');
      assert.ok(!server.output.some((l) => /^\s+at /.test(l)));
    },
  );

  it('writes every event on one line: no line without its time', () => {
    for (const l of server.output.slice(1)) assert.match(l, new RegExp(`^${TIME} \\S`), l);
  });
});

describe('the server log as JSON lines', () => {
  after(cleanup);

  it(
    'writes one JSON object per event, in pino’s shape, with who, what and outcome',
    LIMIT,
    async () => {
      const server = await startServer({ args: ['--log-format', 'json'] });
      const user = await makeUser();
      await writeFile(join(user.home, 'a.txt'), 'abc');
      const on = ['--server', server.address];
      assert.equal((await user.run(['store', 'a.txt', ...on, '--handle', 'Jo'])).code, 0);
      assert.equal((await user.run(['get', 'zz.txt', ...on, '--handle', 'Jo'])).code, 4);
      // The get's line comes after the store's connection's disconnect line.
      await server.waitForLine(/"event":"get"/);
      const entries = server.output.map((l) => JSON.parse(l) as Record<string, unknown>);
      for (const entry of entries) {
        assert.equal(typeof entry.level, 'number');
        assert.equal(typeof entry.time, 'number');
        assert.equal(typeof entry.msg, 'string');
      }
      assert.match(String(entries[0]?.msg), /^fex server listening on /);
      const find = (event: string, outcome: string) =>
        entries.find((e) => e.event === event && e.outcome === outcome);
      assert.equal(find('join', 'ok')?.level, 30);
      assert.match(String(find('join', 'ok')?.remote), /^127\.0\.0\.1:\d+$/);
      assert.deepEqual(
        { ...find('store', 'ok'), time: 0, remote: '' },
        {
          level: 30,
          time: 0,
          event: 'store',
          outcome: 'ok',
          handle: 'Jo',
          remote: '',
          name: 'a.txt',
          size: 3,
          msg: 'Jo stored a.txt (3 bytes)',
        },
      );
      const refused = find('get', 'refused');
      assert.equal(refused?.code, 'E_NOT_FOUND');
      assert.equal(refused?.name, 'zz.txt');
      assert.equal(refused?.handle, 'Jo');
      assert.ok(find('disconnect', 'ok'));
      assert.equal(server.stderr(), '');
    },
  );

  it('refuses an unknown log format as a usage error', LIMIT, async () => {
    const user = await makeUser();
    const r = await user.run(['serve', '--port', '0', '--log-format', 'xml']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^Error: /);
  });
});
