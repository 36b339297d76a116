/**
 * Several `fex serve` processes, each with its own folder, sharing one Redis (`--state`): one
 * namespace of handles, events and messages that cross servers, presence that outlives no server,
 * and a clean refusal while Redis is away. The real binaries over real TCP, a real redis-server.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { newUser } from '../../src/testing/kit.js';
import { PRESENCE_VANISH_MS } from '../../src/server/state/redis-event-bus.js';
import { cleanup, makeUser, ROOT, startServer, uploadedLine } from '../helpers/harness.js';
import { greeted } from '../helpers/raw-client.js';
import { Relay } from '../helpers/relay.js';
import {
  startBalancer,
  startOwnRedis,
  stateUrl,
  testHaproxy,
  testRedis,
} from '../helpers/test-redis.js';
import { LiveShell, stopShells } from './shell-support.js';

const JOINED = 'Connection to the File Exchange Server is successful!';
const UNAVAILABLE =
  'Error: The server cannot reach its shared state. Please try again in a moment.';
const MESSAGING = join(ROOT, 'plugins', 'messaging');
const LIMIT = { timeout: 60_000 };
const redis = testRedis();

/** Two servers, each with its own folder, sharing one Redis namespace (and the messaging plugin). */
async function pair(url = stateUrl(redis.url!)) {
  const args = ['--state', url, '--plugin', MESSAGING];
  const [a, b] = await Promise.all([startServer({ args }), startServer({ args })]);
  return { a, b, url };
}

/** Two users of fex with the messaging commands linked in. */
const messagingUsers = () =>
  Promise.all([newUser({ link: [MESSAGING] }), newUser({ link: [MESSAGING] })]);

/** A shell of `user` joined to the server on `port`, acting as a handle (`/register Ann`...). */
async function shellOn(user: { home: string }, port: number, identify: string) {
  const shell = LiveShell.start(user);
  assert.deepEqual(await shell.run(`/join 127.0.0.1 ${port}`), [JOINED]);
  const handle = identify.split(' ')[1];
  assert.deepEqual(await shell.run(identify), [`Welcome ${handle}!`]);
  return shell;
}

/** Runs `attempt` until it returns something, or fails after `ms`. */
async function eventually<T>(ms: number, attempt: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const result = await attempt();
    if (result !== undefined) return result;
    if (Date.now() > until) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('servers sharing one Redis (--state)', { skip: redis.skip }, () => {
  after(async () => {
    await stopShells();
    await cleanup();
  });

  it('lets a handle registered on one server log in on another', LIMIT, async () => {
    const { a, b } = await pair();
    // One address in front of both, as a balancer is: the client remembers one server.
    const balancer = await new Relay(a.port).start();
    const user = await makeUser();
    const registered = await user.run(['register', 'Ann', '--server', balancer.address]);
    assert.equal(registered.stdout, 'Welcome Ann!\n', registered.stderr);
    balancer.target = b.port;
    const login = await user.run(['login', 'ann', '--server', balancer.address]);
    assert.equal(login.stderr, '');
    assert.equal(login.stdout, 'Welcome Ann!\n');
    await writeFile(join(user.home, 'Ann.txt'), 'on B\n');
    const stored = await user.run(['store', 'Ann.txt', '--server', balancer.address]);
    assert.match(stored.stdout, uploadedLine('Ann', 'Ann.txt'));
    // The handle is taken on both, in any case; a credential from elsewhere is refused on both.
    for (const server of [a, b]) {
      const other = await makeUser();
      const taken = await other.run(['register', 'ANN', '--server', server.address]);
      assert.equal(taken.stderr, 'Error: Registration failed. Handle or alias already exists.\n');
      assert.equal(taken.code, 5);
    }
    await balancer.stop();
  });

  it(
    'of one handle registered at the same moment on two servers, exactly one wins',
    LIMIT,
    async () => {
      const { a, b } = await pair();
      for (let round = 0; round < 20; round++) {
        const [onA, onB] = await Promise.all([greeted(a.port), greeted(b.port)]);
        const handle = `Race${round}`;
        // Both requests leave in the same tick, one to each server.
        onA.send({ type: 'register', id: 2, handle });
        onB.send({ type: 'register', id: 2, handle: handle.toLowerCase() });
        const answers = await Promise.all([onA.next(), onB.next()]);
        const won = answers.filter((answer) => answer?.type === 'ok');
        const lost = answers.filter((answer) => answer?.type === 'error');
        assert.equal(won.length, 1, JSON.stringify(answers));
        assert.equal(lost[0]?.code, 'E_HANDLE_TAKEN', JSON.stringify(answers));
        onA.close();
        onB.close();
      }
      // Through the binary, the loser reads the usual line.
      const [ann, bob] = await Promise.all([makeUser(), makeUser()]);
      const results = await Promise.all([
        ann.run(['register', 'Both', '--server', a.address]),
        bob.run(['register', 'Both', '--server', b.address]),
      ]);
      assert.deepEqual(results.map((r) => r.code).sort(), [0, 5], JSON.stringify(results));
      assert.deepEqual(results.map((r) => r.stdout + r.stderr).sort(), [
        'Error: Registration failed. Handle or alias already exists.\n',
        'Welcome Both!\n',
      ]);
    },
  );

  it(
    'shows a shell on A uploads, broadcasts and private messages made through B',
    LIMIT,
    async () => {
      const { a, b } = await pair();
      const [ann, bob] = await messagingUsers();
      const annShell = await shellOn(ann, a.port, '/register Ann');

      await writeFile(join(bob.home, 'Bob.bin'), Buffer.from([0, 1, 2, 3]));
      const onB = ['--server', b.address, '--handle', 'Bob'];
      const stored = await bob.run(['store', 'Bob.bin', ...onB]);
      assert.match(stored.stdout, uploadedLine('Bob', 'Bob.bin'), stored.stderr);
      assert.equal(await annShell.next(), 'Bob<TIME>: Uploaded Bob.bin');

      const broadcast = await bob.run(['broadcast', 'Slides', 'are', 'up', ...onB]);
      assert.equal(broadcast.code, 0, broadcast.stderr);
      assert.equal(await annShell.next(), 'Bob<TIME>: Slides are up');

      const message = await bob.run(['msg', 'Ann', 'hello from B', ...onB]);
      assert.equal(message.code, 0, message.stderr);
      assert.match(message.stdout, /^Bob<[^>]+> to Ann: hello from B\n$/);
      assert.equal(await annShell.next(), 'Bob<TIME> to you: hello from B');

      // Bob's one-shot commands have left: nobody is Bob on either server.
      assert.deepEqual(await annShell.run('/msg Bob hi'), [
        'Error: Bob is not connected; the message was not delivered.',
      ]);
      // A shell of Bob's on B hears Ann's message from A, and Ann's shell hears Bob's upload.
      const bobShell = await shellOn(bob, b.port, '/login Bob');
      const sent = await eventually(5000, async () => {
        const [line] = await annShell.run('/msg Bob over to B');
        return line?.startsWith('Error:') ? undefined : line;
      });
      assert.equal(sent, 'Ann<TIME> to Bob: over to B');
      assert.equal(await bobShell.next(), 'Ann<TIME> to you: over to B');
      assert.deepEqual(await bobShell.run('/broadcast hello A'), ['Bob<TIME>: hello A']);
      assert.equal(await annShell.next(), 'Bob<TIME>: hello A');
      await writeFile(join(bob.home, 'Second.txt'), 'two\n');
      assert.deepEqual(await bobShell.run('/store Second.txt'), ['Bob<TIME>: Uploaded Second.txt']);
      assert.equal(await annShell.next(), 'Bob<TIME>: Uploaded Second.txt');
      assert.equal(await bobShell.end(), 0);
      assert.equal(await annShell.end(), 1, 'one line (the message to Bob offline) failed');
    },
  );

  it(
    'forgets the users of a server killed without a word within the documented time',
    LIMIT,
    async () => {
      const { a, b } = await pair();
      const [ann, bob] = await messagingUsers();
      const bobShell = await shellOn(bob, b.port, '/register Bob');
      const onA = ['--server', a.address, '--handle', 'Ann'];
      const before = await eventually(5000, async () => {
        const sent = await ann.run(['msg', 'Bob', 'still there?', ...onA]);
        return sent.code === 0 ? sent : undefined;
      });
      assert.equal(before.stderr, '');
      assert.equal(await bobShell.next(), 'Ann<TIME> to you: still there?');

      await b.stop('SIGKILL');
      const killed = Date.now();
      const after = await eventually(PRESENCE_VANISH_MS + 5000, async () => {
        const sent = await ann.run(['msg', 'Bob', 'gone?', ...onA]);
        return sent.code === 0 ? undefined : sent;
      });
      const took = Date.now() - killed;
      assert.equal(after.stderr, 'Error: Bob is not connected; the message was not delivered.\n');
      // The documented bound (docs/scaling.md), plus the time one `fex msg` takes to run.
      assert.ok(
        took <= PRESENCE_VANISH_MS + 2500,
        `Bob was still counted ${took} ms after the kill`,
      );
      await bobShell.kill();
    },
  );

  it(
    'refuses in one line while Redis is down, and serves again once it is back',
    LIMIT,
    async () => {
      const own = await startOwnRedis();
      const server = await startServer({ args: ['--state', stateUrl(own.url)] });
      const user = await makeUser();
      const first = await user.run(['register', 'Early', '--server', server.address]);
      assert.equal(first.stdout, 'Welcome Early!\n', first.stderr);

      await own.stop();
      const refused = await user.run(['register', 'Carl', '--server', server.address]);
      assert.equal(refused.stderr, `${UNAVAILABLE}\n`);
      assert.equal(refused.stdout, '');
      assert.equal(refused.code, 3);
      // A login needs Redis too; the server itself stays up and says why in its log.
      const login = await user.run(['login', 'Early', '--server', server.address]);
      assert.equal(login.stderr, `${UNAVAILABLE}\n`);
      assert.match(server.stderr(), /shared state: lost Redis at 127\.0\.0\.1:\d+\/0 \(/);

      await startOwnRedis(own.port);
      await server.waitForLine(/shared state: Redis at 127\.0\.0\.1:\d+\/0 is back/);
      const again = await user.run(['register', 'Carl', '--server', server.address]);
      assert.equal(again.stdout, 'Welcome Carl!\n', again.stderr);
      assert.equal(again.code, 0);
    },
  );

  it('does not start without its Redis, and says which', LIMIT, async () => {
    const own = await startOwnRedis();
    await own.stop();
    const user = await makeUser();
    const run = await user.run([
      'serve',
      '--port',
      '0',
      '--dir',
      join(user.home, 'files'),
      '--state',
      own.url,
    ]);
    assert.equal(
      run.stderr,
      `Error: Cannot start the server: cannot reach Redis at 127.0.0.1:${own.port}/0 (ECONNREFUSED)\n`,
    );
    assert.equal(run.code, 1);
  });
});

const haproxy: { path?: string; skip?: string } = redis.skip ? { skip: redis.skip } : testHaproxy();

describe('three servers behind haproxy', { skip: haproxy.skip }, () => {
  after(async () => {
    await stopShells();
    await cleanup();
  });

  it('shows three shells on three servers each other’s uploads live', LIMIT, async () => {
    const args = ['--state', stateUrl(redis.url!)];
    const servers = await Promise.all([1, 2, 3].map(() => startServer({ args })));
    const balancer = await startBalancer(
      haproxy.path!,
      servers.map((server) => server.port),
    );
    const names = ['Ann', 'Bob', 'Cid'];
    const users = await Promise.all(names.map(() => makeUser()));
    const shells = [];
    // One after the other: haproxy hands consecutive connections to the servers in turn.
    for (const [i, user] of users.entries()) {
      const shell = LiveShell.start(user);
      assert.deepEqual(await shell.run(`/join ${balancer.address.replace(':', ' ')}`), [JOINED]);
      assert.deepEqual(await shell.run(`/register ${names[i]}`), [`Welcome ${names[i]}!`]);
      shells.push(shell);
    }
    const whose = servers.map((server) =>
      names.filter((n) => server.output.join('\n').includes(n)),
    );
    assert.deepEqual(
      whose.flat().sort(),
      names,
      `each shell on its own server: ${JSON.stringify(whose)}`,
    );
    assert.ok(
      whose.every((on) => on.length === 1),
      JSON.stringify(whose),
    );
    for (const [i, user] of users.entries()) {
      await writeFile(join(user.home, `${names[i]}.txt`), `from ${names[i]}\n`);
      const line = `${names[i]}<TIME>: Uploaded ${names[i]}.txt`;
      assert.deepEqual(await shells[i]!.run(`/store ${names[i]}.txt`), [line]);
      for (const [j, other] of shells.entries())
        if (j !== i) assert.equal(await other.next(), line);
    }
    for (const shell of shells) assert.equal(await shell.end(), 0);
  });
});

describe('fex serve --state', () => {
  after(cleanup);

  it('refuses a URL that is not redis://HOST:PORT[/DB] before starting', async () => {
    const user = await makeUser();
    for (const [url, why] of [
      ['http://127.0.0.1:6379', 'is not a redis:// URL'],
      ['redis://127.0.0.1:6379/zero', 'has a database that is not a number'],
      ['127.0.0.1:6379', 'is not a URL'],
      ['redis://127.0.0.1:6379/0?pool=3', 'has an unknown parameter "pool"'],
    ]) {
      const run = await user.run(['serve', '--port', '0', '--state', url!]);
      assert.equal(run.code, 2, run.stderr);
      assert.ok(
        run.stderr.includes(
          `--state: ${JSON.stringify(url)} ${why}; give redis://HOST:PORT[/DB], e.g. redis://127.0.0.1:6379/0.`,
        ),
        run.stderr,
      );
    }
  });
});
