/**
 * The client's large reads (src/client/socket-reads.ts), over real loopback TCP: bytes arrive
 * intact and in order, reads are larger than Node's 64 KiB once data waits, reading pauses when
 * the consumer does not take, and the end and failures reach the consumer after the data.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { HIGH_WATER, READ_BYTES, SocketReads } from '../../src/client/socket-reads.js';

const servers: Server[] = [];
after(() => {
  for (const server of servers) server.close();
});

/** A loopback server whose connections are handed to `onSocket`; resolves with its port. */
async function serve(onSocket: (socket: Socket) => void): Promise<number> {
  const server = createServer(onSocket);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return address.port;
}

async function open(port: number): Promise<{ socket: Socket; reads: SocketReads }> {
  const reads = new SocketReads();
  const socket = connect({ host: '127.0.0.1', port, onread: reads.onread });
  reads.attach(socket);
  await new Promise((resolve) => socket.once('connect', resolve));
  return { socket, reads };
}

/** Lets the event loop run until `done()` holds (each turn lets pending reads arrive). */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setImmediate(resolve));
}

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('SocketReads', () => {
  it('pauses at its high-water mark, then hands on everything in large reads, in order', async () => {
    const data = randomBytes(8 * 1024 * 1024);
    let sender: Socket | undefined;
    const port = await serve((socket) => {
      sender = socket;
      socket.end(data);
    });
    const { socket, reads } = await open(port);
    await until(() => reads.queuedBytes >= HIGH_WATER);
    // Nothing is taken: reading has stopped, so the sender is held up, not the client's memory.
    await until(() => (sender?.writableLength ?? 0) > 0);
    for (let turn = 0; turn < 50; turn++) await new Promise((resolve) => setImmediate(resolve));
    assert.ok(reads.queuedBytes < HIGH_WATER + READ_BYTES, `${reads.queuedBytes} bytes queued`);
    assert.ok(sender && sender.writableLength > 0, 'the sender still has bytes to send');

    const received: Buffer[] = [];
    for await (const chunk of reads) received.push(chunk);
    const largest = Math.max(...received.map((chunk) => chunk.length));
    assert.ok(largest > 64 * 1024, `largest read ${largest} bytes`);
    assert.ok(largest <= READ_BYTES);
    assert.equal(sha(Buffer.concat(received)), sha(data));
    socket.destroy();
  });

  it('copies small reads out, so a reused buffer never changes a chunk already handed on', async () => {
    let peer: Socket | undefined;
    const port = await serve((socket) => {
      peer = socket;
      socket.write('hello');
    });
    const { socket, reads } = await open(port);
    const first = await reads.next();
    peer?.write('world');
    const second = await reads.next();
    peer?.end();
    assert.equal(String(first.value), 'hello');
    assert.equal(String(second.value), 'world');
    assert.deepEqual(await reads.next(), { value: undefined, done: true });
    socket.destroy();
  });

  it('hands on what was read before a failure, then the failure', async () => {
    let peer: Socket | undefined;
    const port = await serve((socket) => {
      peer = socket;
      socket.write(Buffer.alloc(100_000, 7));
    });
    const { socket, reads } = await open(port);
    await until(() => reads.queuedBytes >= 100_000);
    socket.destroy(new Error('cut by the test'));
    let total = 0;
    await assert.rejects(async () => {
      for await (const chunk of reads) total += chunk.length;
    }, /cut by the test/);
    assert.equal(total, 100_000);
    peer?.destroy();
  });
});
