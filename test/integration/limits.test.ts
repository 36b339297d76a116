/**
 * The operator's limits on files and connections (fex serve --max-files, --max-files-per-handle,
 * --max-connections-per-handle, --max-connections-per-address), and listings in pages: through
 * the real binary and raw connections over loopback.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanup, makeUser, startServer } from '../helpers/harness.js';
import { storeAll } from '../helpers/pipelined.js';
import { greeted, rawConnect } from '../helpers/raw-client.js';

describe('file limits', () => {
  after(cleanup);

  it('refuses a new file over the per-handle and total limits, with its own error', async () => {
    const server = await startServer({
      args: ['--max-files-per-handle', '2', '--max-files', '3'],
    });
    const on = ['--server', server.address];
    const [ann, bob] = [await makeUser(), await makeUser()];
    assert.equal((await ann.run(['register', 'Ann', ...on])).code, 0);
    assert.equal((await bob.run(['register', 'Bob', ...on])).code, 0);
    for (const name of ['a.txt', 'b.txt', 'c.txt']) await writeFile(join(ann.home, name), name);
    await writeFile(join(bob.home, 'x.txt'), 'x');
    await writeFile(join(bob.home, 'y.txt'), 'y');
    assert.equal((await ann.run(['store', 'a.txt', ...on])).code, 0);
    assert.equal((await ann.run(['store', 'b.txt', ...on])).code, 0);
    const third = await ann.run(['store', 'c.txt', ...on]);
    assert.equal(third.code, 7);
    assert.equal(
      third.stderr,
      'Error: Upload refused: Ann already owns 2 files, the most this server allows one handle.\n',
    );
    // Replacing a file takes no more room.
    await writeFile(join(ann.home, 'a.txt'), 'a, again');
    assert.equal((await ann.run(['store', 'a.txt', ...on])).code, 0);
    assert.equal((await bob.run(['store', 'x.txt', ...on])).code, 0);
    const over = await bob.run(['store', 'y.txt', ...on]);
    assert.equal(over.code, 7);
    assert.equal(
      over.stderr,
      'Error: Upload refused: the server already holds 3 files, the most it allows.\n',
    );
    const listing = await bob.run(['dir', ...on]);
    assert.equal(listing.stdout, 'Server Directory\na.txt\nb.txt\nx.txt\n');
  });
});

describe('connection limits', () => {
  after(cleanup);

  it('closes the oldest idle connection of a handle that holds too many', async () => {
    const server = await startServer({ args: ['--max-connections-per-handle', '2'] });
    const first = await greeted(server.port);
    first.send({ type: 'register', id: 2, handle: 'Many' });
    const credential = (await first.next())?.credential as string;
    const login = async () => {
      const client = await greeted(server.port);
      client.send({ type: 'login', id: 2, handle: 'Many', credential });
      assert.equal((await client.next())?.type, 'ok');
      return client;
    };
    const second = await login();
    const third = await login();
    // The first, oldest and idle, is told why and closed; the others stay.
    const event = await first.reader.next();
    assert.deepEqual([event?.type, event?.event, event?.code], ['event', 'closing', 'E_BUSY']);
    await first.closed;
    for (const client of [second, third]) {
      client.send({ type: 'dir', id: 3, limit: 1 });
      assert.equal((await client.next())?.type, 'ok');
    }
  });

  it('turns away connections over --max-connections-per-address with E_BUSY', async () => {
    const server = await startServer({ args: ['--max-connections-per-address', '2'] });
    const kept = [await greeted(server.port), await greeted(server.port)];
    const third = await rawConnect(server.port);
    const answer = await third.next();
    assert.deepEqual([answer?.type, answer?.code], ['error', 'E_BUSY']);
    await third.closed;
    kept[0]!.close();
    await kept[0]!.closed;
    const user = await makeUser();
    const result = await user.run(['register', 'Later', '--server', server.address]);
    assert.equal(result.code, 0, result.stderr);
  });
});

describe('listings in pages', () => {
  after(cleanup);

  it('pages a listing larger than a page, and lists by prefix and limit', async () => {
    const server = await startServer();
    const client = await greeted(server.port, 'Pager');
    const names = Array.from({ length: 1200 }, (_, i) => `p${String(i).padStart(4, '0')}.txt`);
    await storeAll(client, names, 10);

    // One page: at most 1000 entries, and where the next one starts.
    client.send({ type: 'dir', id: 5000, limit: 5000 });
    const page = await client.next();
    assert.deepEqual([page?.count, page?.next], [1000, 'p0999.txt']);
    await client.reader.skipBody();
    client.send({ type: 'dir', id: 5001, after: 'p0999.txt', prefix: 'p1' });
    const rest = await client.next();
    assert.deepEqual([rest?.count, rest?.next], [200, undefined]);
    await client.reader.skipBody();
    client.send({ type: 'dir', id: 5002, limit: 0 });
    assert.equal((await client.next())?.code, 'E_BAD_REQUEST');

    const user = await makeUser();
    const on = ['--server', server.address];
    assert.equal((await user.run(['register', 'Looker', ...on])).code, 0);
    const all = await user.run(['dir', ...on]);
    assert.deepEqual(all.stdout.split('\n'), ['Server Directory', ...names, '']);
    const some = await user.run(['dir', '--prefix', 'p10', '--limit', '3', ...on]);
    assert.equal(some.stdout, 'Server Directory\np1000.txt\np1001.txt\np1002.txt\n');
    const long = await user.run(['dir', '--long', '--prefix', 'p119', ...on]);
    const lines = long.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 11);
    assert.match(
      lines[1]!,
      /^p1190\.txt\t1\tPager\t\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\t[0-9a-f]{64}\t-$/,
    );
    const none = await user.run(['dir', '--prefix', 'zz', ...on]);
    assert.equal(none.stdout, 'Server Directory\n');
  });
});
