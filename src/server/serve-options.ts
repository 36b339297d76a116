/**
 * `fex serve`'s settings: each comes from its flag, else from the `--config` file, else from the
 * default. The config file is JSON; paths in it are relative to its own folder:
 *
 *   { "port": 12345, "dir": "./server-files", "limits": { "maxFileSize": "2GiB" },
 *     "plugins": ["./plugins/audit-log", { "module": "./plugins/quota", "options": { ... } }] }
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { DEFAULT_HOST, DEFAULT_PORT, MAX_HEADER_BYTES } from '../protocol/constants.js';
import { FexError } from '../protocol/errors.js';
import { MAX_HANDLE_LENGTH, MAX_NAME_BYTES } from '../protocol/names.js';
import { DEFAULT_LIMITS } from './limits.js';
import { LOG_FORMATS, type LogFormat } from './logger.js';
import type { Limits } from './plugin-api.js';
import type { PluginSpec } from './plugin-loader.js';
import { parseSize } from './sizes.js';

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
  'tls-cert'?: string;
  'tls-key'?: string;
  'log-format'?: string;
}

export interface ServeOptions {
  host: string;
  port: number;
  dir: string;
  plugins: Array<PluginSpec & { base: string }>;
  limits: Limits;
  /** Paths of the PEM certificate chain and key, to serve TLS. */
  tls?: { cert: string; key: string };
  logFormat: LogFormat;
}

type Config = Record<string, unknown>;

const CONFIG_KEYS = new Set([
  'host',
  'port',
  'dir',
  'limits',
  'plugins',
  'tlsCert',
  'tlsKey',
  'logFormat',
]);
const LIMIT_KEYS = new Set(Object.keys(DEFAULT_LIMITS));
const SIZE_LIMITS = new Set(['maxFileSize', 'maxHeaderBytes']);

function bad(reason: string): FexError {
  return new FexError('SERVE_FAILED', { reason });
}

async function readConfig(path: string): Promise<Config> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw bad(`cannot read the config file ${path}: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw bad(`the config file ${path} is not a JSON object`);
  const unknown = Object.keys(value).find((key) => !CONFIG_KEYS.has(key));
  if (unknown) throw bad(`the config file ${path} has an unknown key "${unknown}"`);
  return value as Config;
}

/** A size (number of bytes, or text like "2GiB") or a count, checked. */
function limitValue(key: string, value: unknown): number {
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

  const cert = flags['tls-cert'] ? resolve(cwd, flags['tls-cert']) : fromConfig('tlsCert');
  const key = flags['tls-key'] ? resolve(cwd, flags['tls-key']) : fromConfig('tlsKey');
  if (Boolean(cert) !== Boolean(key)) throw new FexError('BAD_PARAMS');
  const port = flags.port ?? config.port ?? DEFAULT_PORT;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new FexError('BAD_PARAMS');

  const logFormat = flags['log-format'] ?? config.logFormat ?? 'text';
  if (!LOG_FORMATS.includes(logFormat as LogFormat))
    throw bad(`"logFormat" in the config file must be one of ${LOG_FORMATS.join(', ')}`);

  return {
    logFormat: logFormat as LogFormat,
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
