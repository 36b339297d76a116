/**
 * The real Swift (s3api) and Redis the S3 backend's tests need, found through the environment
 * (FEX_TEST_S3_ENDPOINT, FEX_TEST_REDIS_URL: the contract between the helpers' test setups). A
 * developer without them gets a skip with a clear message; under CI=true their absence fails.
 * To be replaced by `needService` of test/helpers/services.ts once that is merged.
 */
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  AbortMultipartUploadCommand,
  S3Client,
} from '@aws-sdk/client-s3';

export type ServiceName = 'FEX_TEST_S3_ENDPOINT' | 'FEX_TEST_REDIS_URL';

/**
 * The services' values, or undefined after registering one test that skips (fails in CI) and
 * says what is missing: the caller then registers nothing else.
 */
export function services<T extends ServiceName>(...names: T[]): Record<T, string> | undefined {
  const missing = names.filter((name) => !process.env[name]);
  if (missing.length === 0)
    return Object.fromEntries(names.map((name) => [name, process.env[name]])) as Record<T, string>;
  const message = `needs ${missing.join(' and ')} (a real Swift s3api / Redis; see docs/storage.md)`;
  it(message, (t) => {
    if (process.env.CI === 'true') throw new Error(`${message}, which CI must provide`);
    t.skip(message);
  });
  return undefined;
}

/** The test S3 server's settings, as the SDK reads them from the environment. */
export function s3Env(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test:tester',
    AWS_SECRET_ACCESS_KEY: 'testing',
  };
}

export function testS3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test:tester', secretAccessKey: 'testing' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
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
