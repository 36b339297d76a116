/**
 * The `--state` URL: `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB][?prefix=NAME]`. The prefix (default
 * `fex:`) starts every key and channel fex uses, so several fex clusters (or tests) can share one
 * Redis without seeing each other's handles or events.
 */
import { FexError } from '../../shared/errors.js';

export interface StateLocation {
  host: string;
  port: number;
  db: number;
  prefix: string;
  username?: string;
  password?: string;
  /** The URL as logs may show it: without the password. */
  shown: string;
}

export const DEFAULT_REDIS_PORT = 6379;
export const DEFAULT_PREFIX = 'fex:';
const PREFIX_RULE = /^[A-Za-z0-9_.:-]{1,64}$/;

function refused(text: string, why: string): FexError {
  return new FexError('BAD_PARAMS').withHint(
    `--state: ${JSON.stringify(text)} ${why}; give redis://HOST:PORT[/DB], e.g. redis://127.0.0.1:6379/0.`,
  );
}

/** Parses a `--state` value; a usage error (BAD_PARAMS) that says what is wrong otherwise. */
export function parseStateUrl(text: string): StateLocation {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw refused(text, 'is not a URL');
  }
  if (url.protocol !== 'redis:') throw refused(text, 'is not a redis:// URL');
  if (!url.hostname) throw refused(text, 'names no host');
  const port = url.port === '' ? DEFAULT_REDIS_PORT : Number(url.port);
  const path = url.pathname.replace(/^\//, '');
  if (!/^\d{0,5}$/.test(path)) throw refused(text, 'has a database that is not a number');
  const db = path === '' ? 0 : Number(path);
  const unknown = [...url.searchParams.keys()].find((key) => key !== 'prefix');
  if (unknown !== undefined) throw refused(text, `has an unknown parameter "${unknown}"`);
  const prefix = url.searchParams.get('prefix') ?? DEFAULT_PREFIX;
  if (!PREFIX_RULE.test(prefix))
    throw refused(text, 'has a prefix other than 1 to 64 letters, digits, "_", ".", ":" or "-"');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const shownHost = url.hostname;
  const query = url.searchParams.has('prefix') ? `?prefix=${prefix}` : '';
  return {
    host,
    port,
    db,
    prefix,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    shown: `redis://${shownHost}:${port}/${db}${query}`,
  };
}
