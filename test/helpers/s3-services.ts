/**
 * The real Swift (s3api) and Redis the S3 backend's tests need, through services.ts (the
 * variables `npm test` sets), and what those tests do with an S3 server.
 */
import { randomBytes } from 'node:crypto';
import { after, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  AbortMultipartUploadCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { cleanup, startServer, type RunningServer } from './harness.js';
import { S3_TEST_ACCOUNT, serviceFor } from './services.js';

const SERVICE = { FEX_TEST_S3_ENDPOINT: 's3', FEX_TEST_REDIS_URL: 'redis' } as const;
export type ServiceName = keyof typeof SERVICE;

/**
 * The services' values, or undefined after registering one test that skips and says what is
 * missing (in CI, serviceFor throws instead): the caller then registers nothing else.
 */
export function services<T extends ServiceName>(...names: T[]): Record<T, string> | undefined {
  const found = names.map((name) => [name, serviceFor(SERVICE[name])] as const);
  const skip = found.find(([, service]) => service.skip)?.[1].skip;
  if (skip === undefined)
    return Object.fromEntries(found.map(([name, service]) => [name, service.value])) as Record<
      T,
      string
    >;
  it(skip, (t) => t.skip(skip));
  return undefined;
}

/** The test S3 server's settings, as the SDK reads them from the environment. */
export function s3Env(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_REGION: S3_TEST_ACCOUNT.region,
    AWS_ACCESS_KEY_ID: S3_TEST_ACCOUNT.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3_TEST_ACCOUNT.secretAccessKey,
  };
}

export function testS3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: S3_TEST_ACCOUNT.region,
    forcePathStyle: true,
    credentials: {
      accessKeyId: S3_TEST_ACCOUNT.accessKeyId,
      secretAccessKey: S3_TEST_ACCOUNT.secretAccessKey,
    },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/**
 * A client for a test file, and the buckets it makes: each is dropped, the client destroyed and
 * the harness cleaned up once the file's tests are over.
 */
export function fileBuckets(endpoint: string): {
  client: S3Client;
  /** A new bucket (or `bucket`, made elsewhere), dropped after the file. */
  bucket(existing?: string): Promise<string>;
} {
  const client = testS3Client(endpoint);
  const buckets = new Set<string>();
  after(async () => {
    for (const bucket of buckets) await dropBucket(client, bucket).catch(() => undefined);
    client.destroy();
    await cleanup();
  });
  return {
    client,
    async bucket(existing) {
      const bucket = existing ?? (await newBucket(client));
      buckets.add(bucket);
      return bucket;
    },
  };
}

/** A new, uniquely named, empty bucket. */
export async function newBucket(client: S3Client): Promise<string> {
  const bucket = `fex-test-${randomBytes(6).toString('hex')}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/** The keys in the bucket (under `prefix`). */
export async function objectKeys(client: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** The multipart uploads in progress in the bucket. */
export async function openUploads(
  client: S3Client,
  bucket: string,
): Promise<Array<{ key: string; uploadId: string }>> {
  const { Uploads = [] } = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return Uploads.map((u) => ({ key: u.Key ?? '', uploadId: u.UploadId ?? '' }));
}

/** Empties and deletes the bucket. */
export async function dropBucket(client: S3Client, bucket: string): Promise<void> {
  for (const { key, uploadId } of await openUploads(client, bucket))
    await client.send(
      new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }),
    );
  for (const key of await objectKeys(client, bucket))
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}

/**
 * `fex serve` on `s3://BUCKET/fex` (5 MiB parts), reaching the store at `via` (the endpoint, or
 * a relay in front of it) with the test account's keys.
 */
export async function serveOnBucket(
  bucket: string,
  via: string,
  options: { dir?: string; args?: string[]; port?: number } = {},
): Promise<RunningServer> {
  // The server's environment is this process's (startServer keeps AWS_* variables).
  Object.assign(process.env, s3Env(via));
  const args = ['--storage', `s3://${bucket}/fex`, '--s3-path-style', '--s3-part-size', '5MiB'];
  return startServer({
    ...(options.dir ? { dir: options.dir } : {}),
    ...(options.port ? { port: options.port } : {}),
    args: [...args, ...(options.args ?? [])],
  });
}
