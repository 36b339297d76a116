/**
 * What a plugin may touch (plugin API 2): the connection, the handles and the files are read-only
 * views; a connection changes who it is only through ctx.identify, which the core checks; the
 * core opens a connection with whichever handler says `handshake`, knowing none by name; a
 * built-in code thrown with a plugin's own words reaches the client in those words.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  cleanup,
  makeUser,
  pluginFixture,
  startServer,
  type RunningServer,
} from '../helpers/harness.js';
import { greeted, rawConnect } from '../helpers/raw-client.js';

describe('plugin capabilities', () => {
  let server: RunningServer;

  before(async () => {
    server = await startServer({ args: ['--plugin', pluginFixture('capabilities-plugin.js')] });
  });
  after(cleanup);

  it('gives a plugin read-only views of the connection, the handles and the files', async () => {
    const client = await greeted(server.port, 'Plain');
    client.send({ type: 'reach', id: 3, handle: 'Boss' });
    const answer = await client.next();
    assert.deepEqual(
      { ...answer, id: undefined },
      {
        type: 'ok',
        id: undefined,
        handleRefused: true,
        greetedRefused: true,
        handle: 'Plain',
        storage: 'undefined',
        register: 'undefined',
        filesRefused: true,
      },
    );
    client.close();
  });

  it('changes who a connection is only through identify, checked by the core', async () => {
    const owner = await makeUser();
    const registered = await owner.run(['register', 'Owner', '--server', server.address]);
    assert.equal(registered.code, 0, registered.stderr);
    const client = await greeted(server.port);
    client.send({ type: 'claim', id: 3, handle: 'Owner', credential: 'guessed' });
    const wrong = await client.next();
    assert.equal(wrong?.code, 'E_BAD_CREDENTIAL');
    client.send({ type: 'echo-nothing', id: 4 });
    assert.equal((await client.next())?.code, 'E_UNKNOWN_TYPE');
    client.send({ type: 'dir', id: 5 });
    assert.equal((await client.next())?.code, 'E_NOT_REGISTERED', 'still nobody');
    client.send({ type: 'register', id: 6, handle: 'Mine' });
    assert.equal((await client.next())?.type, 'ok');
    // A connection acting as one handle cannot become another, whoever asks.
    client.send({ type: 'register', id: 7, handle: 'Other' });
    assert.equal((await client.next())?.code, 'E_ALREADY_REGISTERED');
    client.close();
  });

  it('opens a connection with any handshake handler, not by the name "hello"', async () => {
    const client = await rawConnect(server.port);
    client.send({ type: 'dir', id: 1 });
    const refused = await client.next();
    assert.equal(refused?.code, 'E_BAD_REQUEST');
    assert.equal(
      refused?.details && (refused.details as { reason?: string }).reason,
      'send "hello" or "knock" first',
    );
    client.send({ type: 'knock', id: 2 });
    assert.deepEqual([(await client.next())?.type], ['ok']);
    client.send({ type: 'register', id: 3, handle: 'Knocker' });
    assert.equal((await client.next())?.type, 'ok', 'greeted by knock');
    client.close();
  });

  it("sends a built-in code thrown with the plugin's own words in those words", async () => {
    const client = await greeted(server.port);
    client.send({ type: 'lookup', id: 3, name: 'x' });
    const answer = await client.next();
    assert.deepEqual(
      [answer?.code, answer?.message, answer?.custom],
      ['E_NOT_FOUND', 'No note called x here.', true],
    );
    // The table's own words are not marked: the client says them its own way.
    client.send({ type: 'register', id: 4, handle: 'Looker' });
    assert.equal((await client.next())?.type, 'ok');
    client.send({ type: 'get', id: 5, name: 'x' });
    const table = await client.next();
    assert.deepEqual([table?.code, table?.custom], ['E_NOT_FOUND', undefined]);
    client.close();
  });
});
