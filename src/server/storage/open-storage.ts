/**
 * Which storage backend `fex serve` runs on: the local folder (the default, built by FexServer as
 * always), or an S3-compatible object store for `--storage s3://BUCKET[/PREFIX]`. The AWS SDK is
 * imported here, lazily, only when the S3 backend is chosen: one-shot client commands and the
 * default server never load it.
 */
import type { Redis } from 'ioredis';
import { FexError } from '../../shared/errors.js';
import type { Logger } from '../logger.js';
import { serverIdOf } from '../server-id.js';
import type { FileIndex } from './file-index.js';
import { LocalFileIndex } from './local-file-index.js';
import { LocalStorage } from './local-storage.js';
import { RedisFileIndex } from './redis-file-index.js';
import type { Storage } from './storage.js';

/** How long a connection to the object store may take before the store counts as away. */
export const CONNECT_TIMEOUT_MS = 5_000;
/** How long a request's socket may stay silent before the store counts as away. */
export const SOCKET_TIMEOUT_MS = 60_000;

export interface S3Location {
  bucket: string;
  /** '' or ending in '/'. */
  prefix: string;
}

export interface StorageSettings {
  /** The object store; none: the server's folder. */
  s3?: S3Location;
  /** Address the bucket in the path (http://host/bucket/key), as MinIO and Swift need. */
  s3PathStyle?: boolean;
  /** Bytes per part of multipart uploads. */
  s3PartSize?: number;
  /** How long a cut-off upload is kept for resuming, in ms. */
  partialTtlMs?: number;
}

/** `s3://BUCKET[/PREFIX]`, or undefined when `text` is not such a location. */
export function parseS3Location(text: string): S3Location | undefined {
  const match = /^s3:\/\/([^/\s]+)(?:\/(.*))?$/.exec(text);
  if (!match) return undefined;
  const prefix = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  return { bucket: match[1]!, prefix: prefix === '' ? '' : `${prefix}/` };
}

export function formatS3Location({ bucket, prefix }: S3Location): string {
  return `s3://${bucket}${prefix === '' ? '' : `/${prefix.slice(0, -1)}`}`;
}

/**
 * The file index of an S3 backend: shared in Redis when a client is given (`--state redis://`;
 * its keys start `fex:BUCKET/PREFIX:`, so clusters on other buckets can share the database), else
 * in this process, persisted in the server's folder. The one place `--state` wires in.
 */
export function fileIndexFor(dir: string, location: S3Location, redis?: Redis): FileIndex {
  return redis
    ? new RedisFileIndex(redis, `fex:${location.bucket}/${location.prefix}:`)
    : new LocalFileIndex(dir);
}

/**
 * The storage for these settings; undefined for the default (FexServer then opens the local
 * folder exactly as without settings).
 */
export async function openStorage(
  settings: StorageSettings,
  dir: string,
  redis?: Redis,
  log?: Logger,
  /** The cluster's id when the server shares state (as FexServer gets it); else its own. */
  sharedServerId?: () => Promise<string>,
): Promise<Storage | undefined> {
  const { s3, partialTtlMs } = settings;
  if (!s3) return partialTtlMs === undefined ? undefined : new LocalStorage(dir, { partialTtlMs });
  const [{ S3Client }, { S3Objects }, { S3Storage }] = await Promise.all([
    import('@aws-sdk/client-s3'),
    import('./s3-objects.js'),
    import('./s3-storage.js'),
  ]);
  const client = new S3Client({
    // Endpoint, region and keys come from the SDK's own chain (AWS_ENDPOINT_URL_S3, AWS_REGION,
    // AWS_ACCESS_KEY_ID..., ~/.aws/config and credentials, AWS_PROFILE).
    ...(settings.s3PathStyle ? { forcePathStyle: true } : {}),
    // fex checks every file's SHA-256 itself; the SDK's own checksums (aws-chunked bodies,
    // CRC headers) are refused by some S3-compatible servers (OpenStack Swift).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Without bounds a store that stops answering holds a request for ever: a connection not
    // made within 5 s, or a socket silent for 60 s (a client's own transfer timeout), is a
    // store out of reach (E_UNAVAILABLE), after the SDK's retries.
    requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, socketTimeout: SOCKET_TIMEOUT_MS },
  });
  const objects = new S3Objects(client, s3.bucket, log);
  return new S3Storage(objects, fileIndexFor(dir, s3, redis), {
    // The file index's id is the server's: the cluster's where the index lives in Redis (one per
    // database; each bucket prefix there has its own objects folder anyway), else its own.
    indexId: await serverIdOf(dir, sharedServerId),
    prefix: s3.prefix,
    ...(settings.s3PartSize === undefined ? {} : { partSize: settings.s3PartSize }),
    ...(partialTtlMs === undefined ? {} : { partialTtlMs }),
    describe: formatS3Location(s3),
    ...(log ? { log } : {}),
  });
}

/** For the ready line: where the files are. */
export function storagePlace(settings: StorageSettings, dir: string): string {
  return settings.s3 ? formatS3Location(settings.s3) : dir;
}

export function badLocation(text: string): FexError {
  return new FexError('BAD_PARAMS').withHint(
    `--storage: ${JSON.stringify(text)} is not s3://BUCKET or s3://BUCKET/PREFIX.`,
  );
}
