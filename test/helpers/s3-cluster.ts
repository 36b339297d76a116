/**
 * A whole fex cluster for the tests of docs/scaling.md: `servers` real `fex serve --storage
 * s3://BUCKET/fex --state redis://...` processes behind the real haproxy (startCluster), on a
 * bucket of their own in the real Swift and a key prefix of their own in a real Redis. Plus what
 * those tests measure files and the object store with, without holding a big file in memory.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { ListPartsCommand, type S3Client } from '@aws-sdk/client-s3';
import { pattern } from '../../src/testing/storage-contract.js';
import { startCluster, type Cluster } from './cluster.js';
import assert from 'node:assert/strict';
import { cleanup, makeUser, type User } from './harness.js';
import { dropBucket, newBucket, openUploads, s3Env, testS3Client } from './s3-services.js';

export const MiB = 1024 * 1024;

export interface S3Cluster extends Cluster {
  bucket: string;
  /** An SDK client of the test's own on the object store (not through any relay). */
  s3: S3Client;
  /** The `--state` URL the servers share. */
  state: string;
  /** Empties and removes the bucket, stops everything the harness started. */
  close(): Promise<void>;
}

/**
 * Starts the cluster. `s3Endpoint` is where the servers reach the object store (a relay in front
 * of `endpoint` for a test that cuts it); the test's own client always talks to `endpoint`.
 */
export async function startS3Cluster(options: {
  servers: number;
  endpoint: string;
  redisUrl: string;
  s3Endpoint?: string;
}): Promise<S3Cluster> {
  const s3 = testS3Client(options.endpoint);
  const bucket = await newBucket(s3);
  // The servers inherit this environment: the AWS SDK's own variables, as a user sets them.
  Object.assign(process.env, s3Env(options.s3Endpoint ?? options.endpoint));
  const state = `${options.redisUrl.replace(/\/+$/, '')}/0?prefix=fex-cluster-${randomBytes(5).toString('hex')}:`;
  const cluster = await startCluster({
    servers: options.servers,
    serveArgs: ['--storage', `s3://${bucket}/fex`, '--s3-path-style', '--state', state],
  });
  return Object.assign(cluster, {
    bucket,
    s3,
    state,
    async close() {
      await cleanup();
      await dropBucket(s3, bucket).catch(() => undefined);
      s3.destroy();
    },
  });
}

/** A new user who registered `handle` through `address` (the balancer's, or one server's). */
export async function registered(address: string, handle: string): Promise<User> {
  const user = await makeUser();
  const r = await user.run(['register', handle, '--server', address]);
  assert.equal(r.stdout, `Welcome ${handle}!\n`, r.stderr);
  return user;
}

/** Writes `size` bytes, every MiB different (parts out of order would show), to `path`. */
export async function writeBigFile(path: string, size: number, seed: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  for (let at = 0, i = 0; at < size; at += MiB, i++) {
    const chunk = pattern(Math.min(MiB, size - at), seed * 100_003 + i);
    hash.update(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return hash.digest('hex');
}

/** The SHA-256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Parts the bucket's multipart uploads in progress hold now (what a resume can start from). */
export async function uploadedParts(s3: S3Client, bucket: string): Promise<number> {
  let parts = 0;
  for (const { key, uploadId } of await openUploads(s3, bucket)) {
    const listed = await s3.send(
      new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }),
    );
    parts += listed.Parts?.length ?? 0;
  }
  return parts;
}

export { until } from './until.js';
