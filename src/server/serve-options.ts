/**
 * `fex serve`'s settings: each comes from its flag, else from the `--config` file, else from the
 * default. The config file is JSON; paths in it are relative to its own folder:
 *
 *   { "port": 12345, "dir": "./server-files", "limits": { "maxFileSize": "2GiB" },
 *     "plugins": ["./plugins/audit-log", { "module": "./plugins/quota", "options": { ... } }] }
 */
import { readJson } from 'fs-extra/esm';
import { dirname, resolve } from 'node:path';
import { DEFAULT_HOST, DEFAULT_PORT, MAX_HEADER_BYTES } from '../protocol/constants.js';
import { FexError } from '../shared/errors.js';
import { MAX_HANDLE_LENGTH, MAX_NAME_BYTES } from '../protocol/names.js';
import { DEFAULT_LIMITS } from './limits.js';
import type { Limits } from './plugin-api.js';
import type { PluginSpec } from './plugin-loader.js';
import { parseSize } from '../shared/sizes.js';
import { parseDuration } from '../protocol/duration.js';

export interface ServeFlags {
  config?: string;
  host?: string;
  port?: number;
  dir?: string;
  plugin?: string[];
  'max-file-size'?: string;
  'max-connections'?: number;
  'idle-timeout'?: number;
  'transfer-timeout'?: number;
  'header-timeout'?: number;
  'max-header'?: string;
  'max-name-bytes'?: number;
  'max-handle-length'?: number;
  'max-age'?: string;
  'default-age'?: string;
  'max-files'?: number;
  'max-files-per-handle'?: number;
  'max-connections-per-handle'?: number;
  'max-connections-per-address'?: number;
  'tls-cert'?: string;
  'tls-key'?: string;
}

export interface ServeOptions {
  host: string;
  port: number;
  dir: string;
  plugins: Array<PluginSpec & { base: string }>;
  limits: Limits;
  /** Paths of the PEM certificate chain and key, to serve TLS. */
  tls?: { cert: string; key: string };
}

type Config = Record<string, unknown>;

const CONFIG_KEYS = new Set(['host', 'port', 'dir', 'limits', 'plugins', 'tlsCert', 'tlsKey']);
const LIMIT_KEYS = new Set(Object.keys(DEFAULT_LIMITS));
const SIZE_LIMITS = new Set([
  'maxFileSize',
  'maxHeaderBytes',
  'maxQueuedEventBytes',
  'maxTotalQueuedEventBytes',
]);
/** Seconds, or text like "7d"; 0 (or "never") for none. */
const DURATION_LIMITS = new Set(['maxAge', 'defaultAge']);

function bad(reason: string): FexError {
  return new FexError('SERVE_FAILED', { reason });
}

async function readConfig(path: string): Promise<Config> {
  let value: unknown;
  try {
    value = await readJson(path);
  } catch (error) {
    throw bad(`cannot read the config file ${path}: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw bad(`the config file ${path} is not a JSON object`);
  const unknown = Object.keys(value).find((key) => !CONFIG_KEYS.has(key));
  if (unknown) throw bad(`the config file ${path} has an unknown key "${unknown}"`);
  return value as Config;
}

function durationValue(key: string, value: unknown): number {
  if (value === 0 || value === '0' || value === 'never') return 0;
  const parsed =
    typeof value === 'string'
      ? parseDuration(value)
      : typeof value === 'number' && Number.isSafeInteger(value)
        ? parseDuration(String(value))
        : undefined;
  if (parsed === undefined)
    throw bad(
      `${key} must be a duration like 30d, 12h or 90m, or 0 for none (got ${String(value)})`,
    );
  return parsed;
}

/** A size (number of bytes, or text like "2GiB"), a duration or a count, checked. */
function limitValue(key: string, value: unknown): number {
  if (DURATION_LIMITS.has(key)) return durationValue(key, value);
  const parsed =
    typeof value === 'number'
      ? value
      : SIZE_LIMITS.has(key) && typeof value === 'string'
        ? parseSize(value)
        : undefined;
  if (parsed === undefined || !Number.isSafeInteger(parsed) || parsed < 0)
    throw new FexError('BAD_PARAMS');
  if (key === 'maxHeaderBytes' && (parsed < 64 || parsed > MAX_HEADER_BYTES))
    throw new FexError('BAD_PARAMS');
  return parsed;
}

function pluginSpecs(value: unknown, base: string): Array<PluginSpec & { base: string }> {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw bad('"plugins" in the config file must be a list');
  return value.map((entry: unknown) => {
    if (typeof entry === 'string') return { module: entry, base };
    const spec = entry as Partial<PluginSpec>;
    if (typeof spec?.module !== 'string')
      throw bad('each plugin in the config file needs "module"');
    return { module: spec.module, options: spec.options ?? {}, base };
  });
}

export async function resolveServeOptions(
  flags: ServeFlags,
  cwd = process.cwd(),
): Promise<ServeOptions> {
  const config = flags.config ? await readConfig(resolve(cwd, flags.config)) : {};
  const base = flags.config ? dirname(resolve(cwd, flags.config)) : cwd;
  const fromConfig = (key: string) =>
    typeof config[key] === 'string' ? resolve(base, config[key] as string) : undefined;

  const configLimits = (config.limits ?? {}) as Record<string, unknown>;
  const unknownLimit = Object.keys(configLimits).find((key) => !LIMIT_KEYS.has(key));
  if (unknownLimit) throw bad(`the config file has an unknown limit "${unknownLimit}"`);
  const flagLimits: Record<string, unknown> = {
    maxFileSize: flags['max-file-size'],
    maxConnections: flags['max-connections'],
    idleTimeout: flags['idle-timeout'],
    transferTimeout: flags['transfer-timeout'],
    headerTimeout: flags['header-timeout'],
    maxHeaderBytes: flags['max-header'],
    maxNameBytes: flags['max-name-bytes'],
    maxHandleLength: flags['max-handle-length'],
    maxAge: flags['max-age'],
    defaultAge: flags['default-age'],
    maxFiles: flags['max-files'],
    maxFilesPerHandle: flags['max-files-per-handle'],
    maxConnectionsPerHandle: flags['max-connections-per-handle'],
    maxConnectionsPerAddress: flags['max-connections-per-address'],
  };
  const limits = { ...DEFAULT_LIMITS };
  for (const key of LIMIT_KEYS) {
    const value = flagLimits[key] ?? configLimits[key];
    if (value !== undefined) limits[key as keyof Limits] = limitValue(key, value);
  }
  const { maxConnections, maxNameBytes, maxHandleLength } = limits;
  if (maxConnections < 1 || maxNameBytes < 1 || maxNameBytes > MAX_NAME_BYTES)
    throw new FexError('BAD_PARAMS');
  if (maxHandleLength < 1 || maxHandleLength > MAX_HANDLE_LENGTH) throw new FexError('BAD_PARAMS');
  if (limits.maxAge > 0 && limits.defaultAge > limits.maxAge)
    throw bad('the default age is longer than the maximum age');
  // An event queue that cannot hold one event would drop them all.
  if (limits.maxQueuedEventBytes < 1024 || limits.maxTotalQueuedEventBytes < 1024)
    throw new FexError('BAD_PARAMS');

  const cert = flags['tls-cert'] ? resolve(cwd, flags['tls-cert']) : fromConfig('tlsCert');
  const key = flags['tls-key'] ? resolve(cwd, flags['tls-key']) : fromConfig('tlsKey');
  if (Boolean(cert) !== Boolean(key)) throw new FexError('BAD_PARAMS');
  const port = flags.port ?? config.port ?? DEFAULT_PORT;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new FexError('BAD_PARAMS');

  return {
    host: flags.host ?? (typeof config.host === 'string' ? config.host : DEFAULT_HOST),
    port,
    dir: flags.dir ? resolve(cwd, flags.dir) : (fromConfig('dir') ?? resolve(cwd, 'server-files')),
    plugins: [
      ...pluginSpecs(config.plugins, base),
      ...(flags.plugin ?? []).map((module) => ({ module, base: cwd })),
    ],
    limits,
    tls: cert && key ? { cert, key } : undefined,
  };
}
