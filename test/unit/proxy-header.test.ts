/** The PROXY protocol header of trusted balancers: v1 text, v2 binary, and what is refused. */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  MAX_PROXY_HEADER_BYTES,
  MAX_V1_BYTES,
  parseProxyHeader,
} from '../../src/server/proxy-header.js';
import { TrustedSources } from '../../src/server/proxy-protocol.js';
import { resolveServeOptions } from '../../src/server/serve-options.js';
import { cleanup, tempDir } from '../helpers/harness.js';
import { FexError } from '../../src/shared/errors.js';
import { proxyV1, proxyV2, proxyV2Local, V2_SIGNATURE } from '../helpers/proxy-header.js';

const clientBytes = Buffer.from('{"type":"hello"}');

describe('parseProxyHeader', () => {
  it('reads a v1 TCP4 line and says where the client bytes begin', () => {
    const header = proxyV1('192.0.2.7', 51234, '10.0.0.1', 12345);
    const parsed = parseProxyHeader(Buffer.concat([header, clientBytes]));
    assert.deepEqual(parsed, {
      state: 'done',
      header: { kind: 'proxy', address: '192.0.2.7', port: 51234 },
      length: header.length,
    });
  });

  it('reads a v1 TCP6 line, writing the address as Node does', () => {
    const header = Buffer.from('PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::1 65535 443\r\n');
    assert.deepEqual(parseProxyHeader(header), {
      state: 'done',
      header: { kind: 'proxy', address: '2001:db8::1', port: 65535 },
      length: header.length,
    });
  });

  it('takes v1 UNKNOWN (whatever follows it) as the balancer’s own connection', () => {
    for (const line of ['PROXY UNKNOWN\r\n', 'PROXY UNKNOWN ffff:: 1.2.3.4 1 2\r\n'])
      assert.deepEqual(parseProxyHeader(Buffer.from(line)), {
        state: 'done',
        header: { kind: 'local' },
        length: line.length,
      });
  });

  it('reads v2 over IPv4 and IPv6, skipping TLVs', () => {
    const tlvs = Buffer.from([0x01, 0x00, 0x02, 0x68, 0x32]); // ALPN "h2"
    const v4 = proxyV2('198.51.100.20', 40000, '10.1.2.3', 12345, { tlvs });
    assert.deepEqual(parseProxyHeader(Buffer.concat([v4, clientBytes])), {
      state: 'done',
      header: { kind: 'proxy', address: '198.51.100.20', port: 40000 },
      length: 16 + 12 + tlvs.length,
    });
    const v6 = proxyV2('2001:db8:0:0:1::2', 1, 'fd00::9', 12345);
    assert.deepEqual(parseProxyHeader(v6), {
      state: 'done',
      header: { kind: 'proxy', address: '2001:db8::1:0:0:2', port: 1 },
      length: 16 + 36,
    });
  });

  it('takes v2 LOCAL (health checks) and UNSPEC as the balancer’s own connection', () => {
    assert.deepEqual(parseProxyHeader(proxyV2Local()), {
      state: 'done',
      header: { kind: 'local' },
      length: 16,
    });
    const local = proxyV2('127.0.0.1', 1, '127.0.0.1', 2, { local: true });
    assert.equal(parseProxyHeader(local).state, 'done');
    const unspec = Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x00, 0, 0])]);
    assert.deepEqual(parseProxyHeader(unspec), {
      state: 'done',
      header: { kind: 'local' },
      length: 16,
    });
  });

  it('asks for more while a header is cut short, at every length', () => {
    for (const header of [
      proxyV1('192.0.2.7', 1, '10.0.0.1', 2),
      proxyV2('192.0.2.7', 1, '10.0.0.1', 2),
      proxyV2('2001:db8::1', 1, '::1', 2),
    ])
      for (let n = 0; n < header.length; n++)
        assert.deepEqual(parseProxyHeader(header.subarray(0, n)), { state: 'more' }, `${n}`);
  });

  it('refuses headers past their bound instead of waiting for them', () => {
    const long = Buffer.from(`PROXY TCP4 ${'1'.repeat(MAX_V1_BYTES)}`);
    assert.equal(parseProxyHeader(long).state, 'bad');
    const longLine = Buffer.from(`PROXY UNKNOWN ${'x'.repeat(MAX_V1_BYTES)}\r\n`);
    assert.equal(parseProxyHeader(longLine).state, 'bad');
    const huge = Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11, 0xff, 0xff])]);
    assert.deepEqual(parseProxyHeader(huge), {
      state: 'bad',
      reason: `PROXY v2 header over ${MAX_PROXY_HEADER_BYTES} bytes`,
    });
  });

  it('refuses garbage and malformed headers', () => {
    const cases = [
      '{"type":"hello"}\n',
      'GET / HTTP/1.1\r\n',
      'PROXY TCP4 1.2.3.4 5.6.7.8 80\r\n',
      'PROXY TCP4 1.2.3.4 5.6.7.8 80 443 extra\r\n',
      'PROXY TCP4 1.2.3.999 5.6.7.8 80 443\r\n',
      'PROXY TCP4 ::1 5.6.7.8 80 443\r\n',
      'PROXY TCP6 1.2.3.4 ::1 80 443\r\n',
      'PROXY TCP4 1.2.3.4 5.6.7.8 65536 443\r\n',
      'PROXY TCP4 1.2.3.4 5.6.7.8 080 443\r\n',
      'PROXY UDP4 1.2.3.4 5.6.7.8 80 443\r\n',
    ];
    for (const text of cases) assert.equal(parseProxyHeader(Buffer.from(text)).state, 'bad', text);
    const v2 = proxyV2('192.0.2.7', 1, '10.0.0.1', 2);
    const withByte = (at: number, value: number) => {
      const copy = Buffer.from(v2);
      copy[at] = value;
      return copy;
    };
    assert.equal(parseProxyHeader(withByte(12, 0x31)).state, 'bad', 'version 3');
    assert.equal(parseProxyHeader(withByte(12, 0x22)).state, 'bad', 'command 2');
    assert.equal(parseProxyHeader(withByte(13, 0x12)).state, 'bad', 'datagram');
    assert.equal(parseProxyHeader(withByte(13, 0x41)).state, 'bad', 'family 4');
    assert.equal(parseProxyHeader(withByte(15, 4)).state, 'bad', 'address block too short');
    assert.equal(parseProxyHeader(withByte(0, 0x0e)).state, 'bad', 'signature');
  });
});

describe('TrustedSources', () => {
  it('matches addresses and CIDR blocks, IPv4 on a dual-stack socket too', () => {
    const trusted = new TrustedSources('127.0.0.1, 10.0.0.0/8 fd00::/8');
    for (const address of ['127.0.0.1', '::ffff:127.0.0.1', '10.200.3.4', 'fd00::5'])
      assert.equal(trusted.has(address), true, address);
    for (const address of ['127.0.0.2', '11.0.0.1', '::1', 'fe80::1', undefined])
      assert.equal(trusted.has(address), false, String(address));
  });

  it('refuses what is not an address or a block, naming it', () => {
    for (const text of ['', 'localhost', '10.0.0.0/33', '10.0.0.0/8/1', '1.2.3.4/x', '::/129']) {
      assert.throws(
        () => new TrustedSources(text),
        (error: unknown) =>
          error instanceof FexError &&
          /--proxy-protocol: ".*" is not a list/.test(error.hint ?? ''),
        text,
      );
    }
  });
});

describe('proxyProtocol in the config file', () => {
  after(cleanup);

  it('takes text or a list, the flag winning; refuses another value naming the key', async () => {
    const dir = await tempDir('fex-proxy-config-');
    const config = async (value: unknown) => {
      const path = join(dir, 'fex.json');
      await writeFile(path, JSON.stringify({ proxyProtocol: value }));
      return path;
    };
    const listed = await resolveServeOptions({ config: await config(['10.0.0.0/8', '::1']) }, dir);
    assert.deepEqual(listed.proxyProtocol?.entries, ['10.0.0.0/8', '::1']);
    const text = await resolveServeOptions({ config: await config('127.0.0.1 10.1.0.0/16') }, dir);
    assert.equal(text.proxyProtocol?.has('10.1.2.3'), true);
    const flag = await resolveServeOptions(
      { config: await config('127.0.0.1'), 'proxy-protocol': '192.0.2.1' },
      dir,
    );
    assert.deepEqual(flag.proxyProtocol?.entries, ['192.0.2.1']);
    assert.equal((await resolveServeOptions({}, dir)).proxyProtocol, undefined);
    const path = await config(42);
    await assert.rejects(
      resolveServeOptions({ config: path }, dir),
      (error: unknown) =>
        error instanceof FexError && (error.hint ?? '').startsWith(`proxyProtocol in ${path}: 42`),
    );
    await assert.rejects(
      resolveServeOptions({ config: await config(['10.0.0.0/8', 'nope']) }, dir),
      (error: unknown) =>
        error instanceof FexError && /proxyProtocol in .*"nope"/.test(error.hint ?? ''),
    );
  });
});
