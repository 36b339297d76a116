/**
 * `fex serve --proxy-protocol FROM` through the real binary: behind the real haproxy
 * (send-proxy-v2) the per-address limit and the log see each client, not the balancer, and its
 * health checks leave no join lines; a trusted address without a header is refused; an
 * untrusted one's header is not believed; TLS behind a balancer reads the header first.
 */
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { readFile } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { encodeHeader, FrameReader } from '../../src/protocol/frame.js';
import { makeCertificate } from '../helpers/certificate.js';
import { startCluster } from '../helpers/cluster.js';
import { cleanup, makeUser, startServer, tempDir, type RunningServer } from '../helpers/harness.js';
import { proxyV1, proxyV2, proxyV2Local } from '../helpers/proxy-header.js';
import { greeted, rawConnect } from '../helpers/raw-client.js';
import { needService } from '../helpers/services.js';

const hello = { type: 'hello', id: 1, version: 1 } as const;

/** Log lines so far that match. */
const linesOf = (server: RunningServer, pattern: RegExp) =>
  server.output.filter((line) => pattern.test(line));

describe('--proxy-protocol behind the real haproxy', () => {
  after(cleanup);

  it('limits each client by its own address, logs it, and keeps health checks quiet', async (t) => {
    if (!needService(t, 'haproxy')) return;
    const cluster = await startCluster({
      servers: 1,
      sendProxy: true,
      serveArgs: ['--proxy-protocol', '127.0.0.1', '--max-connections-per-address', '1'],
    });
    const [server] = cluster.servers as [RunningServer];
    const port = cluster.balancer.port;

    const first = await greeted(port, undefined, { localAddress: '127.0.0.2' });
    const { localPort } = first.socket;
    await server.waitForLine(new RegExp(`(^| )127\\.0\\.0\\.2:${localPort} joined$`));

    // A second connection of the same client is over its limit...
    const again = await rawConnect(port, { localAddress: '127.0.0.2' });
    const answer = await again.next();
    assert.deepEqual([answer?.type, answer?.code], ['error', 'E_BUSY']);
    await server.waitForLine(/turned away \(E_BUSY\): 127\.0\.0\.2 \(1 connections/);
    // ...while another client behind the same balancer is not.
    const other = await greeted(port, 'Other', { localAddress: '127.0.0.3' });
    await server.waitForLine(/(^| )Other \(127\.0\.0\.3:\d+\)|registered Other$/);
    other.close();
    first.close();
    await Promise.all([first.closed, other.closed]);
    await server.waitForLine(/(^| )Other \(127\.0\.0\.3:\d+\) disconnected/);

    // The real CLI through the balancer: served, and logged as the client's address.
    const user = await makeUser();
    const r = await user.run(['register', 'Cli', '--server', cluster.address]);
    assert.equal(r.code, 0, r.stderr);

    // haproxy's checks (LOCAL headers, at least one before the backend was UP) leave nothing.
    assert.deepEqual(await cluster.balancer.states(), ['UP']);
    assert.deepEqual(linesOf(server, /PROXY header refused/), []);
    const joins = linesOf(server, /joined$/).map((line) => / (\S+):\d+ joined$/.exec(line)?.[1]);
    assert.deepEqual(joins, ['127.0.0.2', '127.0.0.3', '127.0.0.1'], server.output.join('\n'));
  });

  it('reads the header before TLS: the client behind the balancer is the one logged', async (t) => {
    if (!needService(t, 'haproxy')) return;
    const files = await makeCertificate(await tempDir('fex-proxy-tls-'));
    const cluster = await startCluster({
      servers: 1,
      sendProxy: true,
      serveArgs: [
        '--proxy-protocol',
        '127.0.0.1',
        '--tls-cert',
        files.cert,
        '--tls-key',
        files.key,
      ],
    });
    const [server] = cluster.servers as [RunningServer];
    const raw = netConnect({
      host: '127.0.0.1',
      port: cluster.balancer.port,
      localAddress: '127.0.0.4',
    });
    const secure = tlsConnect({
      socket: raw,
      ca: await readFile(files.cert),
      servername: 'localhost',
    });
    secure.on('error', () => undefined);
    await new Promise((resolve) => secure.once('secureConnect', resolve));
    secure.write(encodeHeader(hello));
    assert.equal((await new FrameReader(secure).next())?.type, 'ok');
    await server.waitForLine(new RegExp(`(^| )127\\.0\\.0\\.4:${raw.localPort} joined$`));
    secure.destroy();

    const user = await makeUser();
    const r = await user.run(['register', 'Secure', '--server', `fexs://${cluster.address}`], {
      env: { FEX_TLS_CA: files.cert },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      linesOf(server, /PROXY header refused|TLS handshake failed/),
      [],
      server.output.join('\n'),
    );
  });
});

describe('--proxy-protocol on its own', () => {
  after(cleanup);

  it('refuses a trusted connection without a header, and closes it', async () => {
    const server = await startServer({ args: ['--proxy-protocol', '127.0.0.1/32'] });
    const client = await rawConnect(server.port);
    const { localPort } = client.socket;
    client.send(hello);
    assert.equal(await client.next(), null);
    await client.closed;
    await server.waitForLine(
      new RegExp(`PROXY header refused: 127\\.0\\.0\\.1:${localPort} \\(no PROXY header\\)$`),
    );
    // The real CLI, straight to the server, is refused the same way: no client gets past.
    const user = await makeUser();
    const r = await user.run(['register', 'Direct', '--server', server.address]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^Error: /);
    assert.deepEqual(linesOf(server, /joined$/), []);
  });

  it('believes a trusted header (v1, v2, IPv6), and takes the rest of the bytes as the client’s', async () => {
    const server = await startServer({ args: ['--proxy-protocol', '127.0.0.0/8'] });
    const headers = [
      [proxyV1('192.0.2.9', 4444, '127.0.0.1', server.port), / 192\.0\.2\.9:4444 joined$/],
      [proxyV2('198.51.100.7', 5555, '127.0.0.1', server.port), / 198\.51\.100\.7:5555 joined$/],
      [proxyV2('2001:db8::1', 6666, '::1', server.port), / 2001:db8::1:6666 joined$/],
    ] as const;
    for (const [header, line] of headers) {
      const client = await rawConnect(server.port);
      // The header and the first frame in one write, as haproxy may send them.
      client.sendBytes(Buffer.concat([header, encodeHeader(hello)]));
      assert.equal((await client.next())?.type, 'ok');
      await server.waitForLine(line);
      client.close();
    }
  });

  it('serves the balancer’s LOCAL connection as its own, and a health check leaves no line', async () => {
    const server = await startServer({ args: ['--proxy-protocol', '127.0.0.1'] });
    const check = await rawConnect(server.port);
    check.sendBytes(proxyV2Local());
    check.socket.end();
    await check.closed;
    const own = await rawConnect(server.port);
    own.sendBytes(Buffer.from('PROXY UNKNOWN\r\n'));
    own.send(hello);
    assert.equal((await own.next())?.type, 'ok');
    await server.waitForLine(new RegExp(`(^| )127\\.0\\.0\\.1:${own.socket.localPort} joined$`));
    own.close();
    await server.waitForLine(/disconnected/);
    assert.deepEqual(linesOf(server, /joined$|disconnected|left|refused/).length, 2);
  });

  it('refuses a header that does not come within the header timeout or is garbage', async () => {
    const server = await startServer({
      args: ['--proxy-protocol', '127.0.0.1', '--header-timeout', '1'],
    });
    const silent = await rawConnect(server.port);
    await silent.closed;
    await server.waitForLine(
      /PROXY header refused: 127\.0\.0\.1:\d+ \(no PROXY header within 1 s\)$/,
    );
    // Another server: the log holds one refusal line per 10 s, and the first is taken.
    const second = await startServer({ args: ['--proxy-protocol', '127.0.0.1'] });
    const oversize = await rawConnect(second.port);
    oversize.sendBytes(Buffer.from(`PROXY TCP4 ${'9'.repeat(200)}\r\n`));
    await oversize.closed;
    await second.waitForLine(/\(PROXY v1 line too long\)$/);
  });

  it('does not believe a header from an untrusted address: it is bad input', async () => {
    const server = await startServer({ args: ['--proxy-protocol', '10.0.0.0/8'] });
    const spoof = await rawConnect(server.port);
    const { localPort } = spoof.socket;
    spoof.sendBytes(proxyV1('203.0.113.66', 1234, '127.0.0.1', server.port));
    spoof.send(hello);
    const answer = await spoof.next();
    assert.notEqual(answer?.type, 'ok');
    await spoof.closed;
    await server.waitForLine(new RegExp(`(^| )127\\.0\\.0\\.1:${localPort} joined$`));
    await server.waitForLine(new RegExp(`(^| )127\\.0\\.0\\.1:${localPort} disconnected`));
    assert.deepEqual(linesOf(server, /203\.0\.113\.66/), []);
    // Untrusted clients are served as before.
    const user = await makeUser();
    const r = await user.run(['register', 'Plain', '--server', server.address]);
    assert.equal(r.code, 0, r.stderr);
  });

  it('refuses a FROM that is not addresses or CIDR blocks, as a usage error', async () => {
    const user = await makeUser();
    const r = await user.run(['serve', '--port', '0', '--proxy-protocol', '10.0.0.0/33']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /--proxy-protocol: "10\.0\.0\.0\/33" is not a list of addresses or CIDR blocks/,
    );
  });
});
