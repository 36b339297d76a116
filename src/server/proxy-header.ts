/**
 * The PROXY protocol header a TCP balancer (haproxy `send-proxy` / `send-proxy-v2`) writes before
 * the client's bytes, saying who the client is (haproxy's proxy-protocol.txt): version 1 is one
 * text line, version 2 a binary block. Parsed from the bytes received so far, so the caller can
 * read it a chunk at a time and stop at a bound.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** Who the header says the connection is from. */
export type ProxyHeader =
  /** A client the balancer relays: its address is the connection's. */
  | { kind: 'proxy'; address: string; port: number }
  /** The balancer's own connection (v1 `UNKNOWN`, v2 `LOCAL`: health checks). */
  | { kind: 'local' };

export type ProxyParse =
  | { state: 'more' }
  | { state: 'done'; header: ProxyHeader; length: number }
  | { state: 'bad'; reason: string };

/** v1 lines are at most 107 bytes with their CRLF (the spec's worst case, TCP6). */
export const MAX_V1_BYTES = 107;
/**
 * What follows v2's 16-byte preamble: addresses (216 bytes at most, for UNIX) and TLVs. haproxy
 * sends a few TLVs at most; a block past this is refused rather than held.
 */
export const MAX_V2_BODY = 1024;
/** The most bytes a valid header can take: a reader holds no more than this. */
export const MAX_PROXY_HEADER_BYTES = 16 + MAX_V2_BODY;

const V1_PREFIX = Buffer.from('PROXY ');
const V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);

const MORE = { state: 'more' } as const;
const bad = (reason: string): ProxyParse => ({ state: 'bad', reason });

/** Whether `bytes` agrees with `prefix` as far as both go. */
function startsLike(bytes: Buffer, prefix: Buffer): boolean {
  const n = Math.min(bytes.length, prefix.length);
  return bytes.subarray(0, n).equals(prefix.subarray(0, n));
}

/** The header at the start of `bytes`, or that more bytes are needed, or why it is not one. */
export function parseProxyHeader(bytes: Buffer): ProxyParse {
  if (bytes.length === 0) return MORE;
  if (startsLike(bytes, V2_SIGNATURE)) return bytes.length < 16 ? MORE : parseV2(bytes);
  if (startsLike(bytes, V1_PREFIX)) return bytes.length < 6 ? MORE : parseV1(bytes);
  return bad('no PROXY header');
}

/** An IPv6 address as Node writes it (compressed, lower case), so one client has one key. */
function canonicalV6(address: string): string {
  return new URL(`http://[${address}]`).hostname.slice(1, -1);
}

/** A port as decimal text: digits only, no leading zero, at most 65535. */
function portOf(text: string): number | undefined {
  if (!/^(0|[1-9]\d{0,4})$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65_535 ? port : undefined;
}

const V1_FAMILIES: Record<string, (address: string) => boolean> = { TCP4: isIPv4, TCP6: isIPv6 };

function parseV1(bytes: Buffer): ProxyParse {
  const end = bytes.indexOf('\r\n');
  if (end < 0) return bytes.length >= MAX_V1_BYTES ? bad('PROXY v1 line too long') : MORE;
  if (end + 2 > MAX_V1_BYTES) return bad('PROXY v1 line too long');
  const line = bytes.subarray(0, end).toString('latin1');
  const [, family = '', source = '', destination = '', sport = '', dport = '', ...rest] =
    line.split(' ');
  const length = end + 2;
  // The sender does not know the client (or it is its own connection): the spec says to ignore
  // whatever follows UNKNOWN.
  if (family === 'UNKNOWN') return { state: 'done', header: { kind: 'local' }, length };
  const valid = V1_FAMILIES[family];
  if (!valid) return bad(`PROXY v1 family "${family.slice(0, 16)}" unknown`);
  const port = portOf(sport);
  if (
    rest.length > 0 ||
    !valid(source) ||
    !valid(destination) ||
    port === undefined ||
    portOf(dport) === undefined
  )
    return bad('PROXY v1 line malformed');
  const address = family === 'TCP6' ? canonicalV6(source) : source;
  return { state: 'done', header: { kind: 'proxy', address, port }, length };
}

/** The 16-byte address at `at` as text. */
function v6At(bytes: Buffer, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(at + i).toString(16));
  return canonicalV6(groups.join(':'));
}

/** v2 address families: how many address bytes each takes, and its source address. */
const V2_FAMILIES: Record<number, { size: number; source(bytes: Buffer): string }> = {
  0x1: { size: 12, source: (b) => [...b.subarray(16, 20)].join('.') },
  0x2: { size: 36, source: (b) => v6At(b, 16) },
};

function parseV2(bytes: Buffer): ProxyParse {
  const versionCommand = bytes[12]!;
  const familyProtocol = bytes[13]!;
  const bodyLength = bytes.readUInt16BE(14);
  if (versionCommand >> 4 !== 2) return bad('PROXY v2 version unknown');
  const command = versionCommand & 0xf;
  if (command > 1) return bad('PROXY v2 command unknown');
  if (bodyLength > MAX_V2_BODY) return bad(`PROXY v2 header over ${MAX_PROXY_HEADER_BYTES} bytes`);
  const length = 16 + bodyLength;
  if (bytes.length < length) return MORE;
  // LOCAL: the balancer's own connection (its health check); the addresses, if any, mean nothing.
  if (command === 0) return { state: 'done', header: { kind: 'local' }, length };
  const family = V2_FAMILIES[familyProtocol >> 4];
  const protocol = familyProtocol & 0xf;
  // UNSPEC or UNIX: the spec says to accept it and use the real connection's addresses.
  if (!family) {
    if (familyProtocol >> 4 === 0 || familyProtocol >> 4 === 3)
      return { state: 'done', header: { kind: 'local' }, length };
    return bad('PROXY v2 address family unknown');
  }
  if (protocol !== 1) return bad('PROXY v2 transport is not a stream');
  if (bodyLength < family.size) return bad('PROXY v2 address block too short');
  const port = bytes.readUInt16BE(16 + family.size - 4);
  return { state: 'done', header: { kind: 'proxy', address: family.source(bytes), port }, length };
}
