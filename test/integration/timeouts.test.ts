/**
 * A slow or stalled client never holds up the others, and is dropped after the documented time
 * with a `closing` event that says why; an upload it leaves unfinished is held in .fex/partial,
 * invisible, for the same upload to resume.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { asideUploads, cleanup, startServer, type RunningServer } from '../helpers/harness.js';
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

  it('drops a client that stalls in the middle of an upload, keeping what arrived to resume', async () => {
    const client = await rawConnect(server.port);
    client.send({ type: 'hello', id: 1, version: 1 });
    assert.equal((await client.next())?.type, 'ok');
    client.send({ type: 'register', id: 2, handle: 'Staller' });
    const credential = (await client.next())?.credential;
    client.send({ type: 'store', id: 3, name: 'Stalled.bin', size: 1000 });
    assert.equal((await client.next())?.type, 'continue');
    client.send({ type: 'data', id: 3, body: 1000 });
    const sent = Buffer.alloc(10, 7);
    client.sendBytes(sent);
    const event = await closingEvent(client);
    assert.equal(event?.code, 'E_TIMEOUT');
    assert.deepEqual(event?.details, {
      reason: 'no data arrived for too long in the middle of a message',
    });
    await client.closed;
    assert.ok(!(await readdir(server.dir)).includes('Stalled.bin'));
    // The ten bytes that arrived are held in .fex/partial, nothing else aside.
    const held = await asideUploads(server.dir);
    assert.deepEqual(
      held.map((part) => part.size),
      [sent.length],
    );
    assert.match(held[0]!.name, /^partial\/[0-9a-f]{64}\.part$/);
    // The same upload by the same handle is offered them: offset 10, with their SHA-256.
    const again = await rawConnect(server.port);
    again.send({ type: 'hello', id: 1, version: 1 });
    assert.equal((await again.next())?.type, 'ok');
    again.send({ type: 'login', id: 2, handle: 'Staller', credential });
    assert.equal((await again.next())?.type, 'ok');
    again.send({ type: 'store', id: 3, name: 'Stalled.bin', size: 1000 });
    const offer = await again.next();
    assert.deepEqual(
      [offer?.type, offer?.offset, offer?.sha256],
      ['continue', sent.length, createHash('sha256').update(sent).digest('hex')],
    );
    again.close();
  });

  it('closes a connection idle between requests', async () => {
    const client = await greeted(server.port);
    const event = await closingEvent(client);
    assert.equal(event?.code, 'E_TIMEOUT');
    assert.deepEqual(event?.details, { reason: 'the connection was idle for too long' });
  });
});
