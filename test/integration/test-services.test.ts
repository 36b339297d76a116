/**
 * startRedis (test/helpers/services.ts), the Redis a test stops and restarts itself: it answers,
 * stop() closes its port, restart() opens the same port again, empty or, with `persist`, with
 * what was written before.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import { cleanup } from '../helpers/harness.js';
import { startRedis } from '../helpers/services.js';

/** One inline Redis command over real TCP; the first line of the answer. */
function redis(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`${command}\r\n`));
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString();
      const end = answer.indexOf('\r\n', answer.startsWith('$') ? answer.indexOf('\r\n') + 2 : 0);
      if (end >= 0) {
        socket.destroy();
        resolve(answer.slice(0, end).split('\r\n').at(-1)!);
      }
    });
    socket.on('error', reject);
  });
}

describe('startRedis', () => {
  after(cleanup);

  it('restarts on the same port, empty by default', async (t) => {
    const own = await startRedis(t);
    if (!own) return;
    assert.equal(own.url, `redis://127.0.0.1:${own.port}`);
    assert.equal(await redis(own.port, 'SET greeting hello'), '+OK');
    const first = own.pid();
    await own.stop();
    await assert.rejects(redis(own.port, 'PING'), { code: 'ECONNREFUSED' });
    await own.restart();
    assert.notEqual(own.pid(), first);
    assert.equal(await redis(own.port, 'PING'), '+PONG');
    assert.equal(await redis(own.port, 'EXISTS greeting'), ':0');
  });

  it('keeps what was acknowledged across a restart with persist', async (t) => {
    const own = await startRedis(t, { persist: true });
    if (!own) return;
    assert.equal(await redis(own.port, 'SET greeting hello'), '+OK');
    await own.restart();
    assert.equal(await redis(own.port, 'GET greeting'), 'hello');
  });
});
