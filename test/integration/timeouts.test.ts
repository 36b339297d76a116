/**
 * A slow or stalled client never holds up the others, and is dropped after the documented time
 * with a `closing` event that says why; an upload it leaves unfinished leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanup, startServer, type RunningServer } from '../helpers/harness.js';
import { greeted, rawConnect, type RawClient } from '../helpers/raw-client.js';

/** The `closing` event the server sends before it drops a connection. */
async function closingEvent(client: RawClient) {
  for (;;) {
    const frame = await client.reader.next().catch(() => null);
    if (!frame) return null;
    if (frame.type === 'event' && frame.event === 'closing') return frame;
  }
}

describe('timeouts', () => {
  let server: RunningServer;

  before(async () => {
    server = await startServer({
      args: ['--header-timeout', '1', '--transfer-timeout', '1', '--idle-timeout', '2'],
    });
  });
  after(cleanup);

  it('drops a slowloris whose header never completes, serving others meanwhile', async () => {
    const slow = await rawConnect(server.port);
    slow.sendBytes(Buffer.from([0, 0, 1, 0])); // announces a 256-byte header
    // One byte every 100 ms: never silent for a whole second, never finishing.
    const trickle = setInterval(() => slow.sendBytes(Buffer.from(' ')), 100);
    try {
      const other = await greeted(server.port, 'Patient');
      other.send({ type: 'dir', id: 3 });
      assert.equal((await other.next())?.type, 'ok');
      other.close();
      const event = await closingEvent(slow);
      assert.equal(event?.code, 'E_TIMEOUT');
      assert.deepEqual(event?.details, { reason: 'a message header took too long to arrive' });
      await slow.closed;
    } finally {
      clearInterval(trickle);
    }
  });

  it('drops a client that stalls in the middle of an upload, keeping nothing', async () => {
    const client = await greeted(server.port, 'Staller');
    client.send({ type: 'store', id: 3, name: 'Stalled.bin', size: 1000 });
    assert.equal((await client.next())?.type, 'continue');
    client.send({ type: 'data', id: 3, body: 1000 });
    client.sendBytes(Buffer.alloc(10));
    const event = await closingEvent(client);
    assert.equal(event?.code, 'E_TIMEOUT');
    assert.deepEqual(event?.details, {
      reason: 'no data arrived for too long in the middle of a message',
    });
    await client.closed;
    assert.ok(!(await readdir(server.dir)).includes('Stalled.bin'));
    // The handler removes the aside copy before the server sends `closing`.
    assert.deepEqual(await readdir(join(server.dir, '.fex', 'tmp')), []);
  });

  it('closes a connection idle between requests', async () => {
    const client = await greeted(server.port);
    const event = await closingEvent(client);
    assert.equal(event?.code, 'E_TIMEOUT');
    assert.deepEqual(event?.details, { reason: 'the connection was idle for too long' });
  });
});
