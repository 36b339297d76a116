/**
 * The client trusts the server no more than the server trusts it: against a hostile server it
 * prints nothing that could steer a terminal, writes nothing it did not ask for, and never hangs.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanup, makeUser, ROOT, startServer } from '../helpers/harness.js';
import { encodeHeader } from '../../src/protocol/frame.js';
import { fakeServer, type FakeServer } from '../helpers/fake-server.js';
import { greeted } from '../helpers/raw-client.js';

const ESC = '\u001b';
const EVIL = `Mal${ESC}]0;PWNED${'\u0007'}${ESC}[41mRED\u202eFAKE`;
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const fakes: FakeServer[] = [];

async function hostile(answers: Parameters<typeof fakeServer>[0]): Promise<FakeServer> {
  const server = await fakeServer(answers);
  fakes.push(server);
  return server;
}

describe('a hostile server', () => {
  after(async () => {
    await Promise.all(fakes.map((f) => f.close()));
    await cleanup();
  });

  it('cannot rename the handle the client registered, or smuggle escapes into its output', async () => {
    const server = await hostile({
      register: () => [{ type: 'ok', handle: EVIL, credential: 'c' }],
    });
    const user = await makeUser();
    const r = await user.run(['register', 'Bob', '--server', server.address]);
    assert.equal(
      r.stderr,
      'Error: Malformed message from the other side: the server answered for another handle\n',
    );
    assert.equal(r.code, 9);
    assert.ok(!r.stdout.includes(ESC));
  });

  it('has its error messages and details made printable', async () => {
    const server = await hostile({
      register: () => [{ type: 'ok', handle: 'Bob', credential: 'c' }],
      login: () => [{ type: 'ok', handle: 'Bob' }],
      dir: () => [{ type: 'error', code: 'E_EVIL', message: `evil ${EVIL}` }],
      get: () => [
        { type: 'error', code: 'E_NOT_OWNER', message: 'x', details: { name: EVIL, owner: 'x' } },
      ],
    });
    const user = await makeUser();
    const on = ['--server', server.address, '--handle', 'Bob'];
    const dir = await user.run(['dir', ...on]);
    assert.equal(dir.stderr, 'Error: evil Mal?]0;PWNED??[41mRED?FAKE\n');
    assert.equal(dir.code, 10);
    const get = await user.run(['get', 'x.txt', ...on]);
    assert.ok(!get.stderr.includes(ESC) && !get.stderr.includes('\u202e'), get.stderr);
  });

  it('cannot choose the names the client writes, list unsafe names, or send a bad checksum', async () => {
    const body = Buffer.from('payload');
    const entry = {
      name: 'asked.txt',
      size: body.length,
      owner: 'Bob',
      time: 1,
      sha256: sha('payload'),
    };
    const server = await hostile({
      register: () => [{ type: 'ok', handle: 'Bob', credential: 'c' }],
      login: () => [{ type: 'ok', handle: 'Bob' }],
      get: (request) =>
        request.name === 'asked.txt'
          ? [{ type: 'ok', ...entry, name: '../../evil.sh', body: body.length }, body]
          : [
              {
                type: 'ok',
                ...entry,
                name: String(request.name),
                sha256: sha('other'),
                body: body.length,
              },
              body,
            ],
      dir: () => {
        const listing = Buffer.from(`${JSON.stringify({ ...entry, name: '../../etc/passwd' })}\n`);
        return [{ type: 'ok', count: 1, body: listing.length }, listing];
      },
    });
    const user = await makeUser();
    const on = ['--server', server.address, '--handle', 'Bob'];
    const renamed = await user.run(['get', 'asked.txt', ...on]);
    assert.equal(
      renamed.stderr,
      'Error: The server sent an unsafe file name (it is not the name asked for); nothing was written.\n',
    );
    const listed = await user.run(['dir', ...on]);
    assert.equal(
      listed.stderr,
      'Error: The server sent an unsafe file name (the name contains a path separator); nothing was written.\n',
    );
    const corrupt = await user.run(['get', 'other.txt', ...on]);
    assert.equal(
      corrupt.stderr,
      'Error: Transfer of other.txt failed its checksum; nothing was kept.\n',
    );
    assert.equal(corrupt.code, 8);
    const left = (await readdir(user.home)).filter((n) => !['config', 'data', 'cache'].includes(n));
    assert.deepEqual(left, [], 'nothing written');
  });

  it('cannot make the client hang: silence and stalled bodies end it with an error', async () => {
    const server = await hostile({
      register: () => [{ type: 'ok', handle: 'Bob', credential: 'c' }],
      login: () => [{ type: 'ok', handle: 'Bob' }],
      dir: () => 'silence',
      get: () => [
        {
          type: 'ok',
          name: 'slow.bin',
          size: 1000,
          owner: 'Bob',
          time: 1,
          sha256: sha('x'),
          body: 1000,
        },
        Buffer.alloc(10),
      ],
    });
    const user = await makeUser();
    const on = ['--server', server.address, '--handle', 'Bob'];
    const env = { FEX_TIMEOUT: '1' };
    const silent = await user.run(['dir', ...on], { env });
    assert.equal(
      silent.stderr,
      'Error: The server did not answer for 1 seconds; the connection was closed.\n',
    );
    assert.equal(silent.code, 3);
    const stalled = await user.run(['get', 'slow.bin', ...on], { env });
    assert.equal(
      stalled.stderr,
      'Error: The server did not answer for 1 seconds; the connection was closed.\n',
    );
    assert.equal(stalled.code, 3);
  });
});

describe('a server whose answers break the protocol', () => {
  after(async () => {
    await Promise.all(fakes.map((f) => f.close()));
    await cleanup();
  });

  const HASH = sha('x');
  const entry = { name: 'a.bin', size: 5, owner: 'Bob', time: 1, sha256: HASH };
  const own = {
    register: () => [{ type: 'ok', handle: 'Bob', credential: 'c' }],
    login: () => [{ type: 'ok', handle: 'Bob' }],
  };
  /** One-shot command, hostile answers, what the error names. */
  const cases: Array<[string, string[], Parameters<typeof fakeServer>[0], RegExp]> = [
    [
      'store: continue at offset 1.5 (issue 15, item 9)',
      ['store', 'a.bin'],
      { store: () => [{ type: 'continue', offset: 1.5, sha256: HASH }] },
      /"continue" answer to "store": field "offset" must be uint/,
    ],
    [
      'store: continue with a negative offset',
      ['store', 'a.bin'],
      { store: () => [{ type: 'continue', offset: -3 }] },
      /field "offset" must be uint/,
    ],
    [
      'store: ok with a size that is text',
      ['store', 'a.bin'],
      { store: () => [{ type: 'ok', ...entry, size: '5' }] },
      /"ok" answer to "store": field "size" must be uint/,
    ],
    [
      'get: ok without a checksum',
      ['get', 'a.bin'],
      { get: () => [{ type: 'ok', ...entry, sha256: undefined, body: 0 }] },
      /"ok" answer to "get": missing field "sha256"/,
    ],
    [
      'get: ok at a fractional offset',
      ['get', 'a.bin'],
      { get: () => [{ type: 'ok', ...entry, offset: 0.5, body: 5 }, Buffer.from('hello')] },
      /field "offset" must be uint/,
    ],
    [
      'dir: a count that is not a number',
      ['dir'],
      { dir: () => [{ type: 'ok', count: {}, body: 0 }] },
      /"ok" answer to "dir": field "count" must be uint/,
    ],
    [
      'dir: a line with a negative size',
      ['dir'],
      {
        dir: () => {
          const line = Buffer.from(`${JSON.stringify({ ...entry, size: -1 })}\n`);
          return [{ type: 'ok', count: 1, body: line.length }, line];
        },
      },
      /a file entry: field "size" must be uint/,
    ],
    [
      'dir: a line that is JSON but no object',
      ['dir'],
      { dir: () => [{ type: 'ok', count: 1, body: 5 }, Buffer.from('null\n')] },
      /the listing is not JSON lines/,
    ],
    [
      'register: a credential that is a number',
      ['register', 'Bob'],
      { register: () => [{ type: 'ok', handle: 'Bob', credential: 42 }] },
      /"ok" answer to "register": field "credential" must be string/,
    ],
    [
      'an error whose code is not a string',
      ['dir'],
      { dir: () => [{ type: 'error', code: 7, message: 'x' }] },
      /"error" answer to "dir": field "code" must be string/,
    ],
  ];

  for (const [title, args, answers, reason] of cases)
    it(`gets a protocol error, exit 9, and nothing written: ${title}`, async () => {
      const server = await hostile({ ...own, ...answers });
      const user = await makeUser();
      await writeFile(join(user.home, 'a.bin'), 'hello');
      const r = await user.run(
        [...args, '--server', server.address, '--handle', 'Bob'].filter(
          (arg, i, all) =>
            !(args[0] === 'register' && (arg === '--handle' || all[i - 1] === '--handle')),
        ),
      );
      assert.match(r.stderr, /^Error: Malformed message from the other side: .+\n$/);
      assert.match(r.stderr, reason);
      assert.equal(r.code, 9, r.stderr);
      assert.equal(r.stdout, '');
      const left = (await readdir(user.home)).filter(
        (n) => !['config', 'data', 'cache', 'a.bin'].includes(n),
      );
      assert.deepEqual(left, [], 'nothing written');
    });
});

describe('a hostile server that keeps talking', () => {
  const timers = new Set<NodeJS.Timeout>();
  after(async () => {
    for (const timer of timers) clearInterval(timer);
    await Promise.all(fakes.map((f) => f.close()));
    await cleanup();
  });

  /** Writes `frame()` every 100 ms until the client hangs up. */
  function drip(socket: import('node:net').Socket, frame: () => Buffer): void {
    const timer = setInterval(
      () => (socket.destroyed ? clearInterval(timer) : socket.write(frame())),
      100,
    );
    timers.add(timer);
  }

  it('is silent all the same: events and a trickled body do not keep the client waiting', async () => {
    const server = await hostile({
      register: () => [{ type: 'ok', handle: 'Bob', credential: 'c' }],
      login: () => [{ type: 'ok', handle: 'Bob' }],
      dir: (_request, socket) => {
        drip(socket, () => encodeHeader({ type: 'event', event: 'chatter' }));
        return 'silence';
      },
      get: (request, socket) => {
        const header = {
          type: 'ok',
          name: 'slow.bin',
          size: 100_000,
          owner: 'Bob',
          time: 1,
          sha256: sha('x'),
        };
        socket.write(encodeHeader({ ...header, id: request.id, body: 100_000 }));
        drip(socket, () => Buffer.alloc(1));
        return 'silence';
      },
    });
    const user = await makeUser();
    const on = ['--server', server.address, '--handle', 'Bob'];
    const env = { FEX_TIMEOUT: '1' };
    const silent = 'Error: The server did not answer for 1 seconds; the connection was closed.\n';
    const chatter = await user.run(['dir', ...on], { env });
    assert.equal(chatter.stderr, silent);
    const trickle = await user.run(['get', 'slow.bin', ...on], { env });
    assert.equal(trickle.stderr, silent);
    assert.equal(trickle.code, 3);
  });

  it('is told about in the shell when it drops notices the shell fell behind on', async () => {
    const server = await hostile({
      register: () => [{ type: 'ok', handle: 'Bob', credential: 'c' }],
      dir: (_request, socket) => {
        socket.write(encodeHeader({ type: 'event', event: 'dropped', count: 7 }));
        return [{ type: 'ok', body: 0 }];
      },
    });
    const user = await makeUser();
    const [host, port] = server.address.split(':');
    const r = await user.run(['shell'], {
      input: `/join ${host} ${port}\n/register Bob\n/dir\n/leave\n`,
    });
    assert.match(
      r.stdout,
      /^\(7 notices from the server went unread and were dropped; \/dir shows the files as they are now\)$/m,
      r.stdout + r.stderr,
    );
  });

  it('cannot make a plugin command print escape sequences', async () => {
    const server = await hostile({
      register: () => [{ type: 'ok', handle: 'Bob', credential: 'c' }],
      msg: () => [{ type: 'ok', line: `to Ann: ${EVIL}` }],
    });
    const user = await makeUser();
    const plugin = join(ROOT, 'plugins', 'messaging');
    assert.equal((await user.run(['plugins', 'link', plugin, '--no-install'])).code, 0);
    const r = await user.run(['msg', 'Ann', 'hi', '--server', server.address, '--handle', 'Bob']);
    assert.equal(r.stdout, 'to Ann: Mal?]0;PWNED??[41mRED?FAKE\n', r.stderr);
  });
});

describe('a client that stops reading', () => {
  after(cleanup);

  it('is dropped by the server, which then serves others', async () => {
    const server = await startServer({
      args: ['--transfer-timeout', '1', '--max-connections', '1'],
    });
    const user = await makeUser();
    await writeFile(join(user.home, 'big.bin'), Buffer.alloc(32 * 1024 * 1024, 1));
    assert.equal(
      (await user.run(['store', 'big.bin', '--server', server.address, '--handle', 'Sitter'])).code,
      0,
    );
    const lazy = await greeted(server.port, 'Lazy');
    lazy.send({ type: 'get', id: 3, name: 'big.bin' });
    lazy.socket.pause(); // never reads the body
    await server.waitForLine(
      /^\S+ \S+ Lazy \(127\.0\.0\.1:\d+\) disconnected: The server closed the connection: the other side stopped reading\. \(\d+ requests\)$/,
    );
    lazy.close();
    const r = await user.run(['dir', '--server', server.address, '--handle', 'Sitter']);
    assert.equal(r.stdout, 'Server Directory\nbig.bin\n', r.stderr);
  });
});

describe('a link planted where a download is written aside', () => {
  after(cleanup);

  it('is not followed: the file it points at is untouched', async () => {
    const server = await startServer();
    const owner = await makeUser();
    await writeFile(join(owner.home, 'hl.txt'), 'downloaded bytes');
    assert.equal(
      (await owner.run(['store', 'hl.txt', '--server', server.address, '--handle', 'Own'])).code,
      0,
    );
    const victim = await makeUser();
    await writeFile(join(victim.home, 'victim.txt'), 'precious');
    const part = join(victim.home, `.${sha('hl.txt').slice(0, 16)}.fex-part`);
    await symlink(join(victim.home, 'victim.txt'), part);
    const r = await victim.run(['get', 'hl.txt', '--server', server.address, '--handle', 'Vic']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(join(victim.home, 'victim.txt'), 'utf8'), 'precious');
    assert.equal(await readFile(join(victim.home, 'hl.txt'), 'utf8'), 'downloaded bytes');
  });
});
