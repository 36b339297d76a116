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
import { Relay } from '../helpers/relay.js';

describe('server identity', () => {
  const fakes: FakeServer[] = [];
  const relays: Relay[] = [];
  after(async () => {
    await Promise.all(fakes.map((fake) => fake.close()));
    await Promise.all(relays.map((relay) => relay.stop()));
    await cleanup();
  });

  it('refuses to send a credential to another server at the same address', async () => {
    // One lasting address (a relay bound once) in front of three servers in turn, so no restart
    // depends on a fixed port staying free.
    const first = await startServer();
    const address = await new Relay(first.port).start();
    relays.push(address);
    const user = await makeUser();
    const on = ['--server', address.address];
    assert.equal((await user.run(['register', 'Keeper', ...on])).code, 0);
    await first.stop();
    address.target = (await startServer()).port;
    const r = await user.run(['dir', ...on]);
    assert.equal(
      r.stderr,
      `Error: The server at ${address.address} is not the one that registered Keeper; your credential was not sent.\n`,
    );
    assert.equal(r.code, 5);
    // The first server back (its folder, so its id) behind the same address: trusted again.
    address.target = (await startServer({ dir: first.dir })).port;
    const again = await user.run(['dir', ...on]);
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
