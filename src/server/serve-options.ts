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
import { LOG_FORMATS, type LogFormat } from './logger.js';
import type { Limits } from './plugin-api.js';
import type { PluginSpec } from './plugin-loader.js';
import { parseSize } from '../shared/sizes.js';
import { parseDuration } from '../protocol/duration.js';
import { badLocation, parseS3Location, type StorageSettings } from './storage/open-storage.js';
import { MIN_PART_SIZE } from './storage/s3-limits.js';
import { parseStateUrl } from './state/state-url.js';
import { TrustedSources } from './proxy-protocol.js';

/** The formats of `--log-format`, for the command's flag. */
export { LOG_FORMATS };

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
  'log-format'?: string;
  storage?: string;
  's3-path-style'?: boolean;
  's3-part-size'?: string;
  'partial-expiry'?: string;
  state?: string;
  'proxy-protocol'?: string;
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
  /** Where the files go (the S3 backend), and how long cut-off uploads are kept. */
  storage: StorageSettings;
  /** `redis://...`: handles and events shared with the other servers using it (docs/scaling.md). */
  state?: string;
  /** The balancers whose connections start with a PROXY header (--proxy-protocol). */
  proxyProtocol?: TrustedSources;
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
  'storage',
  's3PathStyle',
  's3PartSize',
  'partialExpiry',
  'state',
  'proxyProtocol',
]);

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

/**
 * Each limit: its flag (none: config file only), what it takes (a count, a size as a number of
 * bytes or text like "2GiB", or an age in seconds or text like "7d", 0 or "never" for none), and
 * its range, also said in the hint of a bad value.
 */
const LIMIT_RULES: Record<
  keyof Limits,
  { flag?: string; kind?: 'size' | 'age'; min: number; max?: number }
> = {
  maxFileSize: { flag: 'max-file-size', kind: 'size', min: 0 },
  maxConnections: { flag: 'max-connections', min: 1 },
  idleTimeout: { flag: 'idle-timeout', min: 0 },
  transferTimeout: { flag: 'transfer-timeout', min: 0 },
  headerTimeout: { flag: 'header-timeout', min: 0 },
  maxHeaderBytes: { flag: 'max-header', kind: 'size', min: 64, max: MAX_HEADER_BYTES },
  maxNameBytes: { flag: 'max-name-bytes', min: 1, max: MAX_NAME_BYTES },
  maxHandleLength: { flag: 'max-handle-length', min: 1, max: MAX_HANDLE_LENGTH },
  maxAge: { flag: 'max-age', kind: 'age', min: 0 },
  defaultAge: { flag: 'default-age', kind: 'age', min: 0 },
  maxFiles: { flag: 'max-files', min: 0 },
  maxFilesPerHandle: { flag: 'max-files-per-handle', min: 0 },
  maxConnectionsPerHandle: { flag: 'max-connections-per-handle', min: 0 },
  maxConnectionsPerAddress: { flag: 'max-connections-per-address', min: 0 },
  // An event queue that cannot hold one event would drop them all.
  maxQueuedEventBytes: { kind: 'size', min: 1024 },
  maxTotalQueuedEventBytes: { kind: 'size', min: 1024 },
};

/**
 * A usage error that names the setting and its source, and says what it takes: the first line
 * stays the course's parameters line, the second is `--max-file-size: "12XB" is not a size ...`
 * or `limits.maxFileSize in /srv/fex.json: ...`.
 */
function badValue(where: string, value: unknown, takes: string): FexError {
  return new FexError('BAD_PARAMS').withHint(`${where}: ${JSON.stringify(value)} is not ${takes}.`);
}

/** Seconds, or text like "7d"; 0 (or "never") for none. */
function durationValue(where: string, value: unknown): number {
  if (value === 0 || value === '0' || value === 'never') return 0;
  const parsed =
    typeof value === 'string'
      ? parseDuration(value)
      : typeof value === 'number' && Number.isSafeInteger(value)
        ? parseDuration(String(value))
        : undefined;
  if (parsed === undefined)
    throw badValue(where, value, 'a duration like 30d, 12h or 90m, or 0 for none');
  return parsed;
}

/** A limit's value checked against what it takes and its range. */
function limitValue(key: keyof Limits, value: unknown, where: string): number {
  const { kind, min, max } = LIMIT_RULES[key];
  if (kind === 'age') return durationValue(where, value);
  const size = kind === 'size';
  const parsed =
    typeof value === 'number'
      ? value
      : size && typeof value === 'string'
        ? parseSize(value)
        : undefined;
  const range = max === undefined ? `of at least ${min}` : `from ${min} to ${max}`;
  const takes = size
    ? `a size: a number of bytes${max === undefined ? '' : ` ${range}`} with an optional unit K, M, G or T, e.g. ${max === undefined ? '500MiB' : '8KiB'}`
    : `a whole number ${range}`;
  if (parsed === undefined || !Number.isSafeInteger(parsed) || parsed < min)
    throw badValue(where, value, takes);
  if (max !== undefined && parsed > max) throw badValue(where, value, takes);
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
  const configPath = flags.config ? resolve(cwd, flags.config) : '';
  const config = flags.config ? await readConfig(configPath) : {};
  const base = flags.config ? dirname(resolve(cwd, flags.config)) : cwd;
  const fromConfig = (key: string) =>
    typeof config[key] === 'string' ? resolve(base, config[key] as string) : undefined;

  const configLimits = (config.limits ?? {}) as Record<string, unknown>;
  const unknownLimit = Object.keys(configLimits).find((key) => !Object.hasOwn(LIMIT_RULES, key));
  if (unknownLimit)
    throw bad(`the config file ${configPath} has an unknown limit "${unknownLimit}"`);
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
  for (const key of Object.keys(LIMIT_RULES) as Array<keyof Limits>) {
    const fromFlag = flagLimits[key] !== undefined;
    const value = flagLimits[key] ?? configLimits[key];
    const where = fromFlag ? `--${LIMIT_RULES[key].flag}` : `limits.${key} in ${configPath}`;
    if (value !== undefined) limits[key] = limitValue(key, value, where);
  }
  if (limits.maxAge > 0 && limits.defaultAge > limits.maxAge)
    throw new FexError('BAD_PARAMS').withHint(
      'the default age (--default-age) is longer than the maximum age (--max-age).',
    );

  const cert = flags['tls-cert'] ? resolve(cwd, flags['tls-cert']) : fromConfig('tlsCert');
  const key = flags['tls-key'] ? resolve(cwd, flags['tls-key']) : fromConfig('tlsKey');
  if (Boolean(cert) !== Boolean(key))
    throw new FexError('BAD_PARAMS').withHint(
      `A TLS certificate needs its key and a key its certificate (tlsCert and tlsKey in ${configPath || 'the config file'}, or --tls-cert and --tls-key).`,
    );
  const port = flags.port ?? config.port ?? DEFAULT_PORT;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)
    throw badValue(`port in ${configPath}`, port, 'a port number from 0 to 65535');
  for (const key of ['host', 'dir', 'tlsCert', 'tlsKey'])
    if (config[key] !== undefined && typeof config[key] !== 'string')
      throw badValue(`${key} in ${configPath}`, config[key], 'text');

  const logFormat = flags['log-format'] ?? config.logFormat ?? 'text';
  if (!LOG_FORMATS.includes(logFormat as LogFormat))
    throw bad(`"logFormat" in the config file must be one of ${LOG_FORMATS.join(', ')}`);

  const state = flags.state ?? config.state;
  if (state !== undefined && typeof state !== 'string')
    throw badValue(`state in ${configPath}`, state, 'a redis:// URL');
  // Checked now, so a mistyped URL is a usage error before anything starts.
  if (state !== undefined) parseStateUrl(state);

  const proxyProtocol = trustedSources(
    flags['proxy-protocol'] ?? config.proxyProtocol,
    flags['proxy-protocol'] === undefined ? `proxyProtocol in ${configPath}` : '--proxy-protocol',
  );

  return {
    ...(proxyProtocol ? { proxyProtocol } : {}),
    storage: storageSettings(flags, config, configPath),
    ...(state === undefined ? {} : { state }),
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

/**
 * `--proxy-protocol FROM` or `"proxyProtocol"` in the config file: addresses and CIDR blocks as
 * one text (commas or spaces between) or, in the file, a list of them.
 */
function trustedSources(value: unknown, where: string): TrustedSources | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value) && value.every((entry) => typeof entry === 'string'))
    return new TrustedSources(value.join(','), where);
  if (typeof value === 'string') return new TrustedSources(value, where);
  throw badValue(where, value, 'a list of addresses or CIDR blocks, e.g. ["10.0.0.0/8"]');
}

/** `--storage` and the settings beside it, from flags or the config file. */
function storageSettings(flags: ServeFlags, config: Config, configPath: string): StorageSettings {
  const where = (flag: string, key: string) =>
    flags[flag as keyof ServeFlags] !== undefined ? `--${flag}` : `${key} in ${configPath}`;
  const location = flags.storage ?? config.storage;
  let s3;
  if (location !== undefined) {
    s3 = typeof location === 'string' ? parseS3Location(location) : undefined;
    if (!s3) throw badLocation(String(location));
  }
  const pathStyle = flags['s3-path-style'] ?? config.s3PathStyle;
  if (pathStyle !== undefined && typeof pathStyle !== 'boolean')
    throw badValue(where('s3-path-style', 's3PathStyle'), pathStyle, 'true or false');
  const partSizeText = flags['s3-part-size'] ?? config.s3PartSize;
  let s3PartSize: number | undefined;
  if (partSizeText !== undefined) {
    s3PartSize =
      typeof partSizeText === 'number'
        ? partSizeText
        : typeof partSizeText === 'string'
          ? parseSize(partSizeText)
          : undefined;
    if (s3PartSize === undefined || !Number.isSafeInteger(s3PartSize) || s3PartSize < MIN_PART_SIZE)
      throw badValue(
        where('s3-part-size', 's3PartSize'),
        partSizeText,
        'a size of at least 5MiB, e.g. 16MiB',
      );
  }
  const expiry = flags['partial-expiry'] ?? config.partialExpiry;
  let partialTtlMs: number | undefined;
  if (expiry !== undefined) {
    const seconds = durationValue(where('partial-expiry', 'partialExpiry'), expiry);
    if (seconds === 0)
      throw badValue(where('partial-expiry', 'partialExpiry'), expiry, 'a duration like 1d or 12h');
    partialTtlMs = seconds * 1000;
  }
  return {
    ...(s3 ? { s3 } : {}),
    ...(pathStyle ? { s3PathStyle: true } : {}),
    ...(s3PartSize === undefined ? {} : { s3PartSize }),
    ...(partialTtlMs === undefined ? {} : { partialTtlMs }),
  };
}
