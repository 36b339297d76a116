/**
 * A server is one server to its clients however they reach it: credentials are kept under the
 * lasting id the server sends in its hello, not under the address typed.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanup, makeUser, startServer } from '../helpers/harness.js';

describe('server identity', () => {
  after(cleanup);

  it('keeps acting as the handle through another name of the host, and after a move to another port', async () => {
    const first = await startServer();
    const user = await makeUser();
    assert.equal((await user.run(['register', 'Mover', '--server', first.address])).code, 0);
    const viaName = await user.run(['dir', '--server', `localhost:${first.port}`]);
    assert.equal(viaName.stdout, 'Server Directory\n', viaName.stderr);

    await first.stop();
    const moved = await startServer({ dir: first.dir });
    assert.notEqual(moved.port, first.port);
    const after = await user.run(['dir', '--server', moved.address, '--handle', 'Mover']);
    assert.equal(after.stdout, 'Server Directory\n', after.stderr);
    const id = (await readFile(join(first.dir, '.fex', 'server-id'), 'utf8')).trim();
    assert.match(id, /^[0-9a-f]{32}$/);
    const state = JSON.parse(
      await readFile(join(user.home, 'config', 'fex', 'state.json'), 'utf8'),
    ) as {
      servers: Record<string, unknown>;
    };
    assert.deepEqual(Object.keys(state.servers), [`id:${id}`]);
  });
});
