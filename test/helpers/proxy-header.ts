/** PROXY protocol headers as a balancer writes them (haproxy's proxy-protocol.txt), for tests. */
import { isIPv4 } from 'node:net';

export const V2_SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** `PROXY TCP4 ...\r\n` or `PROXY TCP6 ...\r\n` from `source` to `destination`. */
export function proxyV1(source: string, sourcePort: number, destination: string, port: number) {
  const family = isIPv4(source) ? 'TCP4' : 'TCP6';
  return Buffer.from(`PROXY ${family} ${source} ${destination} ${sourcePort} ${port}\r\n`);
}

function v6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const groups = (text: string) => (text ? text.split(':') : []);
  const left = groups(head);
  const right = groups(tail);
  const all = address.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return Buffer.from(all.map((g) => g.padStart(4, '0')).join(''), 'hex');
}

/** A v2 PROXY (or LOCAL) header over TCP, with `tlvs` bytes after the addresses. */
export function proxyV2(
  source: string,
  sourcePort: number,
  destination: string,
  port: number,
  options: { local?: boolean; tlvs?: Buffer } = {},
): Buffer {
  const v4 = isIPv4(source);
  const address = (a: string) => (v4 ? Buffer.from(a.split('.').map(Number)) : v6Bytes(a));
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(sourcePort, 0);
  ports.writeUInt16BE(port, 2);
  const body = Buffer.concat([
    address(source),
    address(destination),
    ports,
    options.tlvs ?? Buffer.alloc(0),
  ]);
  const head = Buffer.alloc(4);
  head[0] = options.local ? 0x20 : 0x21;
  head[1] = v4 ? 0x11 : 0x21;
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([V2_SIGNATURE, head, body]);
}

/** v2 LOCAL with no addresses: what haproxy's health checks send (check-send-proxy). */
export function proxyV2Local(): Buffer {
  return Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])]);
}
