/**
 * A credential goes only to the server that issued it: the client records the server's lasting
 * id with it and sends it to no other server, whether that one answers at the same address or
 * presents a copy of the id elsewhere.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Header } from '../../src/protocol/constants.js';
import { fakeServer, type FakeServer } from '../helpers/fake-server.js';
import { cleanup, makeUser, startServer } from '../helpers/harness.js';

describe('server identity', () => {
  const fakes: FakeServer[] = [];
  after(async () => {
    await Promise.all(fakes.map((fake) => fake.close()));
    await cleanup();
  });

  it('refuses to send a credential to another server at the same address', async () => {
    const first = await startServer();
    const user = await makeUser();
    assert.equal((await user.run(['register', 'Keeper', '--server', first.address])).code, 0);
    await first.stop();
    const impostor = await startServer({ port: first.port });
    const r = await user.run(['dir', '--server', impostor.address]);
    assert.equal(
      r.stderr,
      `Error: The server at ${first.address} is not the one that registered Keeper; your credential was not sent.\n`,
    );
    assert.equal(r.code, 5);
    await impostor.stop();
    const back = await startServer({ dir: first.dir, port: first.port });
    const again = await user.run(['dir', '--server', back.address]);
    assert.equal(again.stdout, 'Server Directory\n', again.stderr);
  });

  it('never sends a credential to a server elsewhere that copies the id', async () => {
    const real = await startServer();
    const user = await makeUser();
    assert.equal((await user.run(['register', 'Keeper', '--server', real.address])).code, 0);
    const id = (await readFile(join(real.dir, '.fex', 'server-id'), 'utf8')).trim();
    const seen: Header[] = [];
    const record = (request: Header) => {
      seen.push(request);
      return [{ type: 'error', code: 'E_HANDLE_TAKEN', message: 'taken' }];
    };
    const copy = await fakeServer({ login: record, register: record }, { serverId: id });
    fakes.push(copy);
    const r = await user.run(['dir', '--server', copy.address, '--handle', 'Keeper']);
    assert.equal(r.code, 5);
    assert.deepEqual(
      seen.map((request) => [request.type, request.credential]),
      [['register', undefined]],
    );
  });
});
