/**
 * Issue 15, item 2: stalled TLS handshakes. Sockets that send 11 bytes of a ClientHello and stop
 * used to stay open for ever (Node leaves them open when the server listens for
 * `tlsClientError`), were not counted against --max-connections, and each failure was logged.
 * Here the server may hold 150 descriptors (prlimit), so 300 stalled sockets would exhaust them
 * if the server kept them: a real `fexs://` client must still be served.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { makeCertificate } from '../helpers/certificate.js';
import { cleanup, makeUser, startServer, tempDir, type RunningServer } from '../helpers/harness.js';

/** The first 11 bytes of a TLS 1.2 ClientHello record: record header and handshake header. */
const PARTIAL_CLIENT_HELLO = Buffer.from([
  0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00, 0xc4, 0x03, 0x03,
]);
const STALLED = 300;
const MAX_CONNECTIONS = 20;

interface Stalled {
  socket: Socket;
  closed: Promise<void>;
  isClosed: () => boolean;
}

async function stall(port: number): Promise<Stalled> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  let closed = false;
  const done = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closed = true;
      resolve();
    }),
  );
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(PARTIAL_CLIENT_HELLO);
  return { socket, closed: done, isClosed: () => closed };
}

describe('stalled TLS handshakes', () => {
  let server: RunningServer;
  let cert: string;

  before(async () => {
    const files = await makeCertificate(await tempDir());
    cert = files.cert;
    server = await startServer({
      args: [
        ...['--tls-cert', files.cert, '--tls-key', files.key],
        ...['--max-connections', String(MAX_CONNECTIONS), '--header-timeout', '2'],
      ],
    });
    await promisify(execFile)('prlimit', [`--pid=${server.process.pid}`, '--nofile=150:150']);
  });
  after(cleanup);

  it(
    'are counted from accept and dropped, and a real client is served',
    { timeout: 60_000 },
    async () => {
      const stalled: Stalled[] = [];
      for (let i = 0; i < STALLED; i++) stalled.push(await stall(server.port));
      // Only the room --max-connections leaves is kept: the oldest handshakes made way.
      await Promise.all(stalled.slice(0, STALLED - MAX_CONNECTIONS).map((s) => s.closed));
      const open = stalled.filter((s) => !s.isClosed()).length;
      assert.ok(open <= MAX_CONNECTIONS, `${open} stalled handshakes still open`);
      const descriptors = (await readdir(`/proc/${server.process.pid}/fd`)).length;
      assert.ok(descriptors < 150, `${descriptors} descriptors open`);

      const user = await makeUser();
      const real = await user.run(
        ['register', 'RealClient', '--server', `fexs://127.0.0.1:${server.port}`],
        { env: { FEX_TLS_CA: cert } },
      );
      assert.equal(real.code, 0, real.stderr);

      // The rest end at the handshake timeout (--header-timeout 2), closed rather than left open.
      await Promise.all(stalled.map((s) => s.closed));
      const lines = server.output.filter((line) => line.includes('TLS handshake failed'));
      assert.ok(lines.length <= 2, `${lines.length} lines logged:\n${lines.join('\n')}`);
    },
  );
});
