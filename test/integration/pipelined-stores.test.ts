/**
 * Stores that carry their body in the request, sent back to back without waiting: through a bare
 * protocol client (answers in order, refusals keep the stream in step, nothing half-stored), and
 * through the real `fex` shell, whose run of `/store` lines from a pipe goes out pipelined and
 * must print exactly what the lines print one by one.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  BIN,
  cleanEnv,
  cleanup,
  makeUser,
  pluginFixture,
  startServer,
  type RunningServer,
} from '../helpers/harness.js';
import type { Header } from '../../src/protocol/constants.js';
import { FrameReader } from '../../src/protocol/frame.js';
import { greeted, type RawClient } from '../helpers/raw-client.js';
import { Relay } from '../helpers/relay.js';
import { transcript } from './shell-support.js';

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const lines = (...all: string[]) => all.map((line) => `${line}\n`).join('');

/** Visible files of the storage folder (the reserved `.fex` left out). */
async function visible(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name !== '.fex').sort();
}

/**
 * A relay that holds the server's answers from the first `store` request it sees until it has
 * seen `stores` of them: a client that waits for each answer before the next store never gets
 * one (and gives up after FEX_TIMEOUT), while a pipelined client has sent them all by then.
 */
function answerHoldingRelay(target: number, stores: number) {
  const counted = { seen: 0 };
  const holding = () => counted.seen > 0 && counted.seen < stores;
  const relay = new Relay(target, (client, server) => {
    // The client's frames, read aside to count its store requests. The count is taken in the
    // same turn of the event loop as the request is forwarded, so before any answer can come.
    const copy = new PassThrough();
    const reader = new FrameReader(copy);
    const held: Buffer[] = [];
    void (async () => {
      for (let frame = await reader.next(); frame; frame = await reader.next())
        if (frame.type === 'store' && ++counted.seen && !holding())
          for (const chunk of held.splice(0)) client.write(chunk);
    })().catch(() => undefined);
    client.on('data', (chunk: Buffer) => {
      copy.write(chunk);
      server.write(chunk);
    });
    client.on('end', () => copy.end());
    server.on('data', (chunk: Buffer) => {
      if (holding()) held.push(chunk);
      else client.write(chunk);
    });
  });
  return Object.assign(relay, { counted });
}

describe('stores with their body in the request', () => {
  let server: RunningServer;
  let handles = 0;
  const fresh = async (): Promise<RawClient> => greeted(server.port, `Raw${++handles}`);

  before(async () => {
    server = await startServer();
  });
  after(cleanup);

  it('are offered in the hello answer', async () => {
    const client = await greeted(server.port);
    client.send({ type: 'hello', id: 5, version: 1 });
    assert.deepEqual((await client.next())?.bodies, ['store']);
    client.close();
  });

  it('are answered in request order when sent back to back, and all land', async () => {
    const client = await fresh();
    const files = Array.from({ length: 40 }, (_, i) => ({
      name: `piped-${String(i).padStart(2, '0')}.bin`,
      data: randomBytes(i * 37),
    }));
    files.forEach(({ name, data }, i) =>
      client.send({ type: 'store', id: 10 + i, name, size: data.length, sha256: sha(data) }, data),
    );
    client.send({ type: 'dir', id: 99 });
    for (const [i, { name, data }] of files.entries()) {
      const answer = await client.next();
      assert.deepEqual([answer?.type, answer?.id, answer?.name], ['ok', 10 + i, name]);
      assert.deepEqual(
        [answer?.size, answer?.sha256, answer?.resumedFrom],
        [data.length, sha(data), 0],
      );
    }
    const listing = await client.next();
    assert.deepEqual([listing?.type, listing?.id], ['ok', 99]);
    assert.ok((listing?.count as number) >= files.length);
    for (const { name, data } of files)
      assert.deepEqual(await readFile(join(server.dir, name)), data);
    client.close();
  });

  it('refuses a mismatch and keeps the stream in step, storing nothing for it', async () => {
    const client = await fresh();
    const data = Buffer.from('twelve bytes');
    const cases: Array<[Record<string, unknown>, Buffer | undefined, string]> = [
      // A body without its checksum, and a checksum without a body.
      [{ name: 'nosum.txt', size: data.length }, data, 'E_BAD_REQUEST'],
      [{ name: 'nobody.txt', size: data.length, sha256: sha(data) }, undefined, 'E_BAD_REQUEST'],
      [{ name: 'short.txt', size: data.length + 1, sha256: sha(data) }, data, 'E_BAD_REQUEST'],
      [
        { name: 'wrongsum.txt', size: data.length, sha256: sha(Buffer.from('x')) },
        data,
        'E_CHECKSUM',
      ],
      [{ name: '../up.txt', size: data.length, sha256: sha(data) }, data, 'E_BAD_NAME'],
      [{ name: 'ok.txt', size: data.length, sha256: sha(data) }, data, 'ok'],
    ];
    cases.forEach(([fields, body], i) =>
      client.send({ type: 'store', id: 20 + i, ...fields } as never, body),
    );
    for (const [i, [, , expected]] of cases.entries()) {
      const answer = await client.next();
      assert.equal(answer?.id, 20 + i);
      assert.equal(answer?.type === 'ok' ? 'ok' : answer?.code, expected, JSON.stringify(answer));
    }
    assert.ok(
      !(await visible(server.dir)).some((name) => /nosum|nobody|short|wrongsum/.test(name)),
    );
    assert.deepEqual(await readFile(join(server.dir, 'ok.txt')), data);
    // Other request types still carry no body.
    client.send({ type: 'dir', id: 40 }, Buffer.from('x'));
    assert.equal((await client.next())?.code, 'E_BAD_REQUEST');
    client.send({ type: 'leave', id: 41 });
    assert.equal((await client.next())?.type, 'ok');
  });

  it('refuses a name owned by another handle before writing anything', async () => {
    const owner = await fresh();
    const mine = Buffer.from('mine');
    owner.send({ type: 'store', id: 3, name: 'owned.txt', size: 4, sha256: sha(mine) }, mine);
    assert.equal((await owner.next())?.type, 'ok');
    const other = await fresh();
    const theirs = Buffer.from('theirs');
    other.send({ type: 'store', id: 3, name: 'owned.txt', size: 6, sha256: sha(theirs) }, theirs);
    other.send({ type: 'store', id: 4, name: 'after.txt', size: 6, sha256: sha(theirs) }, theirs);
    assert.equal((await other.next())?.code, 'E_NOT_OWNER');
    assert.equal((await other.next())?.type, 'ok');
    assert.deepEqual(await readFile(join(server.dir, 'owned.txt')), mine);
    owner.close();
    other.close();
  });

  it('keeps only one of two names that differ only in case, sent back to back', async () => {
    const client = await fresh();
    const data = Buffer.from('case');
    client.send({ type: 'store', id: 3, name: 'Clash.txt', size: 4, sha256: sha(data) }, data);
    client.send({ type: 'store', id: 4, name: 'clash.txt', size: 4, sha256: sha(data) }, data);
    assert.equal((await client.next())?.type, 'ok');
    assert.equal((await client.next())?.code, 'E_NAME_CLASH');
    assert.deepEqual(
      (await visible(server.dir)).filter((name) => name.toLowerCase() === 'clash.txt'),
      ['Clash.txt'],
    );
    client.close();
  });
});

describe('stores in flight when the server is told to stop', () => {
  after(cleanup);

  it('are answered, then the client hears the shutdown, and the server exits 0', async () => {
    const server = await startServer();
    const client = await greeted(server.port, 'Stopper');
    const data = Buffer.alloc(512, 7);
    for (let i = 0; i < 50; i++)
      client.send(
        { type: 'store', id: 10 + i, name: `stop-${i}`, size: data.length, sha256: sha(data) },
        data,
      );
    const frames: Header[] = [];
    const first = await client.reader.next();
    assert.equal(first?.type, 'ok');
    frames.push(first as Header);
    const exited = server.stop('SIGTERM');
    for (let frame = await client.reader.next(); frame; frame = await client.reader.next())
      frames.push(frame);
    assert.equal(await exited, 0);
    const closing = frames.at(-1);
    assert.deepEqual([closing?.event, closing?.code], ['closing', 'E_SHUTTING_DOWN']);
    const answers = frames.slice(0, -1);
    // Whatever was read before the signal is answered, in order, and is on disk whole.
    assert.deepEqual(
      answers.map((a) => [a.type, a.id]),
      answers.map((_, i) => ['ok', 10 + i]),
    );
    for (const answer of answers)
      assert.deepEqual(await readFile(join(server.dir, answer.name as string)), data);
    assert.deepEqual(await readdir(join(server.dir, '.fex', 'tmp')), []);
  });
});

describe('a run of /store lines through a pipe', () => {
  let server: RunningServer;

  before(async () => {
    server = await startServer();
  });
  after(cleanup);

  it('prints exactly what the lines print one by one, in order', async () => {
    const owner = await makeUser();
    await writeFile(join(owner.home, 'taken.txt'), 'first');
    assert.equal((await owner.run(['register', 'Owner1', '--server', server.address])).code, 0);
    assert.equal((await owner.run(['store', 'taken.txt', '--server', server.address])).code, 0);
    const user = await makeUser();
    const big = randomBytes(200 * 1024);
    await writeFile(join(user.home, 'a.txt'), 'a, first');
    await mkdir(join(user.home, 'sub'));
    await writeFile(join(user.home, 'sub', 'a.txt'), 'a, second');
    await writeFile(join(user.home, 'b.txt'), 'b');
    await writeFile(join(user.home, 'big.bin'), big);
    await writeFile(join(user.home, 'taken.txt'), 'second');
    const r = await transcript(
      user,
      ['shell'],
      lines(
        `/join 127.0.0.1 ${server.port}`,
        '/register Piper',
        '/store a.txt',
        '/store missing.txt',
        '/store big.bin',
        '/store taken.txt',
        '/store b.txt',
        '/store sub/a.txt',
        '/store "../outside/../b.txt"',
        '/dir',
        '/leave',
      ),
    );
    assert.equal(r.code, 1);
    assert.equal(
      r.output,
      lines(
        'Connection to the File Exchange Server is successful!',
        'Welcome Piper!',
        'Piper<TIME>: Uploaded a.txt',
        'Error: File not found.',
        'Piper<TIME>: Uploaded big.bin',
        'Error: taken.txt belongs to Owner1; only its owner may replace it.',
        'Piper<TIME>: Uploaded b.txt',
        'Piper<TIME>: Uploaded a.txt',
        'Error: File not found.',
        'Server Directory',
        'a.txt',
        'b.txt',
        'big.bin',
        'taken.txt',
        'Connection closed. Thank you!',
      ),
    );
    assert.equal(await readFile(join(server.dir, 'a.txt'), 'utf8'), 'a, second');
    assert.deepEqual(await readFile(join(server.dir, 'big.bin')), big);
    assert.equal(await readFile(join(server.dir, 'taken.txt'), 'utf8'), 'first');
  });

  /**
   * Stores `names` from one piped shell through a relay that holds every answer until it has
   * seen all of them: a client that waits for an answer before sending the rest never finishes.
   */
  async function storeAheadOfAnswers(handle: string, names: readonly string[]): Promise<void> {
    const user = await makeUser();
    await Promise.all(names.map((name) => writeFile(join(user.home, name), name)));
    const proxy = await answerHoldingRelay(server.port, names.length).start();
    try {
      const r = await transcript(
        user,
        ['shell'],
        lines(
          `/join 127.0.0.1 ${proxy.port}`,
          `/register ${handle}`,
          ...names.map((name) => `/store ${name}`),
          '/leave',
        ),
        { FEX_TIMEOUT: '10' },
      );
      assert.equal(
        r.output,
        lines(
          'Connection to the File Exchange Server is successful!',
          `Welcome ${handle}!`,
          ...names.map((name) => `${handle}<TIME>: Uploaded ${name}`),
          'Connection closed. Thank you!',
        ),
      );
      assert.equal(r.code, 0);
      assert.equal(proxy.counted.seen, names.length);
    } finally {
      await proxy.stop();
    }
  }

  it('sends the run of stores without waiting for each answer', async () => {
    // Fails, after FEX_TIMEOUT, if the shell stores line by line (storeRunsAsBuilt() false).
    await storeAheadOfAnswers('Ahead', ['p1.txt', 'p2.txt', 'p3.txt', 'p4.txt']);
  });

  it('sends up to 256 stores before the first answer', async () => {
    // Fails, after FEX_TIMEOUT, with a window of 64: such a client never sends all 200.
    const names = Array.from({ length: 200 }, (_, i) => `ahead-${String(i).padStart(3, '0')}`);
    await storeAheadOfAnswers('Deep', names);
  });

  it('keeps every printed store when the server is killed right after the last line', async () => {
    // Group commit answers hundreds of pipelined stores per flush: each line must still mean
    // the file is stored, so a SIGKILL the moment the last line is read loses none of them.
    const victim = await startServer();
    const user = await makeUser();
    const names = Array.from({ length: 600 }, (_, i) => `kept-${String(i).padStart(3, '0')}.bin`);
    const contents = new Map(names.map((name) => [name, randomBytes(1024)]));
    await Promise.all(names.map((name) => writeFile(join(user.home, name), contents.get(name)!)));
    const shell = spawn(process.execPath, [BIN, 'shell'], {
      cwd: user.home,
      env: cleanEnv(user.home),
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const exited = once(shell, 'close');
    // No /leave: the session is open when the server dies.
    shell.stdin.end(
      lines(`/join 127.0.0.1 ${victim.port}`, '/register Kept', ...names.map((n) => `/store ${n}`)),
    );
    const printed: string[] = [];
    for await (const line of createInterface({ input: shell.stdout })) {
      const uploaded = /^Kept<[^>]*>: Uploaded (.+)$/.exec(line)?.[1];
      if (uploaded === undefined) continue;
      printed.push(uploaded);
      if (printed.length === names.length) victim.process.kill('SIGKILL');
    }
    await exited;
    assert.equal(await victim.stop(), null);
    assert.deepEqual(printed, names);
    // The restarted server replays its journal: every printed file is there, byte for byte.
    const again = await startServer({ dir: victim.dir });
    for (const name of names)
      assert.deepEqual(await readFile(join(victim.dir, name)), contents.get(name), name);
    const listed = await user.run(['dir', '--server', again.address, '--handle', 'Reader']);
    assert.equal(listed.code, 0, listed.stderr);
    for (const name of names) assert.ok(listed.stdout.includes(`${name}\n`), name);
  });

  it('reads a script of more lines than it holds at once to its end', async () => {
    // The script arrives long before the shell has run its lines: input pauses, then ends, and
    // resuming the closed reader used to fail every line past 8192.
    const user = await makeUser();
    const stores = Array.from({ length: 9000 }, () => '/store missing.txt');
    const r = await transcript(
      user,
      ['shell'],
      lines(`/join 127.0.0.1 ${server.port}`, '/register Long', ...stores, '/leave'),
    );
    assert.equal(
      r.output,
      lines(
        'Connection to the File Exchange Server is successful!',
        'Welcome Long!',
        ...stores.map(() => 'Error: File not found.'),
        'Connection closed. Thank you!',
      ),
    );
    assert.equal(r.code, 1);
  });

  it('stores hundreds of small files, each line in order', async () => {
    const user = await makeUser();
    const names = Array.from({ length: 300 }, (_, i) => `many-${String(i).padStart(3, '0')}`);
    await Promise.all(names.map((name) => writeFile(join(user.home, name), name)));
    const r = await transcript(
      user,
      ['shell'],
      lines(
        `/join 127.0.0.1 ${server.port}`,
        '/register Many',
        ...names.map((name) => `/store ${name}`),
        '/leave',
      ),
    );
    assert.equal(r.code, 0);
    assert.equal(
      r.output,
      lines(
        'Connection to the File Exchange Server is successful!',
        'Welcome Many!',
        ...names.map((name) => `Many<TIME>: Uploaded ${name}`),
        'Connection closed. Thank you!',
      ),
    );
    for (const name of names) assert.equal(await readFile(join(server.dir, name), 'utf8'), name);
  });

  it('reports a server killed in the middle of a run on every line left, and ends', async () => {
    // The plugin holds the store of `stall-here` for ever: the run cannot finish before the kill.
    const victim = await startServer({ args: ['--plugin', pluginFixture('stall-plugin.js')] });
    const user = await makeUser();
    const names = Array.from({ length: 100 }, (_, i) => `cut-${String(i).padStart(3, '0')}`);
    names.splice(40, 0, 'stall-here');
    await Promise.all(names.map((name) => writeFile(join(user.home, name), name)));
    const run = transcript(
      user,
      ['shell'],
      lines(
        `/join 127.0.0.1 ${victim.port}`,
        '/register Cut',
        ...names.map((name) => `/store ${name}`),
        '/dir',
      ),
    );
    await victim.waitForLine(/stored cut-010 /);
    await victim.stop('SIGKILL');
    const r = await run;
    assert.equal(r.code, 1);
    const out = r.output.split('\n').slice(2, -1);
    // In order: the stores answered before the kill (none after the held one), then one error
    // for every line left, then the /dir line's.
    const stored = out.filter((line) => line.startsWith('Cut<TIME>: Uploaded ')).length;
    assert.ok(stored <= 40, `${stored} stored`);
    assert.deepEqual(
      out.slice(0, stored),
      names.slice(0, stored).map((name) => `Cut<TIME>: Uploaded ${name}`),
    );
    assert.equal(out.length, names.length + 1);
    for (const line of out.slice(stored)) assert.match(line, /^Error: /);
  });
});
