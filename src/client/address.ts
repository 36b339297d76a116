import { FexError } from '../protocol/errors.js';

export interface ServerAddress {
  host: string;
  port: number;
}

/** A port as the user typed it: a whole number 1..65535, nothing else. */
export function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** `host:port` or `[v6]:port`. */
export function parseServer(text: string): ServerAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]\s]+)):(\d+)$/.exec(text.trim());
  const port = match && parsePort(match[3] ?? '');
  const host = match && (match[1] ?? match[2]);
  if (!host || !port) throw new FexError('BAD_SERVER', { server: text });
  return { host, port };
}

export function formatServer(address: ServerAddress): string {
  return address.host.includes(':')
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}
