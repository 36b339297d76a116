import { FexError } from './errors.js';

export interface ServerAddress {
  host: string;
  port: number;
  /** Connect with TLS (`fexs://`). */
  tls?: boolean;
}

const SCHEME = /^(fexs?):\/\//i;

/** A port as the user typed it: a whole number 1..65535, nothing else. */
export function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** A host as `/join` takes it: `127.0.0.1`, `[::1]`, or with a scheme, `fexs://example.org`. */
export function parseHost(text: string): { host: string; tls: boolean } | undefined {
  const scheme = SCHEME.exec(text)?.[1]?.toLowerCase();
  const rest = scheme ? text.slice(scheme.length + 3) : text;
  const host = /^\[([^\]]+)\]$/.exec(rest)?.[1] ?? rest;
  if (!/^[^\s/:[\]]+$/.test(host) && !/^[0-9a-f:.]+$/i.test(host)) return undefined;
  return { host, tls: scheme === 'fexs' };
}

/** The two words of `/join <server_ip_add> <port>`; anything else is a usage error. */
export function joinAddress(host: string, port: string): ServerAddress {
  const portNumber = parsePort(port);
  const parsed = parseHost(host);
  if (!portNumber)
    throw new FexError('BAD_PARAMS').withHint(`Port "${port}" is not a number from 1 to 65535.`);
  if (!parsed)
    throw new FexError('BAD_PARAMS').withHint(`"${host}" is not a host name or address.`);
  return { ...parsed, port: portNumber };
}

/** `host:port`, `[v6]:port`, optionally behind `fex://` or `fexs://` (TLS). */
export function parseServer(text: string): ServerAddress {
  const match = /^(.+):(\d+)$/.exec(text.trim());
  const port = match && parsePort(match[2] ?? '');
  const host = match && parseHost(match[1] ?? '');
  if (!host || !port) throw new FexError('BAD_SERVER', { server: text });
  return { ...host, port };
}

export function formatServer(address: ServerAddress): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${address.tls ? 'fexs://' : ''}${host}:${address.port}`;
}
