/**
 * The few object-store calls the S3 backend makes, on what AWS S3, MinIO, Ceph RGW, R2 and
 * OpenStack Swift's s3api all support: PutObject, GetObject with Range, DeleteObject (one key:
 * Swift wants Content-MD5 on DeleteObjects, which the SDK no longer sends), HeadBucket, and the
 * multipart calls driven one by one (Create, UploadPart, Complete, Abort), since resuming needs
 * the upload id and each part's ETag, and ListObjectsV2 for the orphan sweep. No conditional writes: Swift refuses `If-None-Match`, and
 * the file index decides every name instead. Every failure becomes one clean FexError line
 * (s3-failures.ts); the log says when the store is lost and when it is back.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { FexError } from '../../shared/errors.js';
import type { Logger } from '../logger.js';
import type { HeldPart } from './file-index.js';
import { isUnreachable, sdkReason, SERVICE, storeFailed, storeFailure } from './s3-failures.js';

/** One object as a listing gives it. */
export interface ListedObject {
  key: string;
  size: number;
  /** LastModified, ms since the epoch (S3 may date a multipart object at its initiation). */
  modified: number;
}

export class S3Objects {
  /** Why the store was last found unreachable; undefined while it answers. */
  private away: string | undefined;
  /** Called when the store answers again after it was found unreachable. */
  onBack: (() => void) | undefined;

  constructor(
    readonly client: S3Client,
    readonly bucket: string,
    /** Where the transitions (lost, back) are written; none in tests of the storage alone. */
    private readonly log?: Logger,
  ) {}

  async checkBucket(): Promise<void> {
    await this.call(() => this.client.send(new HeadBucketCommand({ Bucket: this.bucket })));
  }

  async put(key: string, body: Buffer): Promise<void> {
    await this.call(() =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentLength: body.length,
        }),
      ),
    );
  }

  async createMultipart(key: string): Promise<string> {
    const { UploadId } = await this.call(() =>
      this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key })),
    );
    if (!UploadId) throw storeFailed('CreateMultipartUpload gave no upload id');
    return UploadId;
  }

  async uploadPart(key: string, uploadId: string, number: number, body: Buffer): Promise<string> {
    const { ETag } = await this.call(() =>
      this.client.send(
        new UploadPartCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: number,
          Body: body,
          ContentLength: body.length,
        }),
      ),
    );
    if (!ETag) throw storeFailed('UploadPart gave no ETag');
    return ETag;
  }

  async complete(key: string, uploadId: string, parts: HeldPart[]): Promise<void> {
    await this.call(() =>
      this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: {
            Parts: parts.map(({ number, etag }) => ({ PartNumber: number, ETag: etag })),
          },
        }),
      ),
    );
  }

  /**
   * Resolves true once the upload is gone (aborted now, or completed or aborted before); false
   * when the store could not be asked, so the caller keeps its record for a later sweep.
   */
  async abortMultipart(key: string, uploadId: string): Promise<boolean> {
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }),
      );
      return true;
    } catch (error) {
      return (error as Error).name === 'NoSuchUpload';
    }
  }

  /** The object's bytes from `start`; rejects with `missing` true when there is no such key. */
  async get(key: string, start = 0): Promise<Readable> {
    const range = start > 0 ? { Range: `bytes=${start}-` } : {};
    const { Body } = await this.call(() =>
      this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, ...range })),
    );
    // In Node the SDK's body is the HTTP response itself, a Readable.
    if (!(Body instanceof Readable)) throw storeFailed('GetObject gave no stream');
    return Body;
  }

  /** SHA-256 of a whole object, read back: for an upload resumed away from its hash state. */
  async sha256(key: string): Promise<string> {
    const hash = createHash('sha256');
    const body = await this.get(key);
    // The body can fail half-way (the store going away mid-read): heard like a failed call.
    await this.call(async () => {
      for await (const chunk of body) hash.update(chunk as Buffer);
    });
    return hash.digest('hex');
  }

  /**
   * The objects under `prefix`, one page (at most 1000) at a time: a sweep holds one page, never
   * the whole listing.
   */
  async *pages(prefix: string): AsyncGenerator<ListedObject[]> {
    let token: string | undefined;
    do {
      const page = await this.call(() =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            ContinuationToken: token,
          }),
        ),
      );
      const listed: ListedObject[] = [];
      for (const { Key, Size, LastModified } of page.Contents ?? [])
        if (Key !== undefined && LastModified !== undefined)
          listed.push({ key: Key, size: Size ?? 0, modified: LastModified.getTime() });
      yield listed;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async delete(key: string): Promise<void> {
    await this.call(() =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })),
    );
  }

  private async call<T>(task: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await task();
    } catch (error) {
      if (error instanceof FexError) throw error;
      if (isUnreachable(error)) this.lost(sdkReason(error));
      const name = (error as Error).name;
      const failure = storeFailure(error, this.bucket);
      if (name === 'NoSuchKey' || name === 'NotFound')
        Object.defineProperty(failure, 'missing', { value: true });
      throw failure;
    }
    if (this.away !== undefined) this.back();
    return result;
  }

  /** One error line when the store is first found away, not one per request meanwhile. */
  private lost(reason: string): void {
    if (this.away !== undefined) return;
    this.away = reason;
    this.log?.error(
      `${SERVICE}: lost the bucket ${this.bucket} (${reason}); requests that need it fail with E_UNAVAILABLE until it is back`,
    );
  }

  private back(): void {
    this.away = undefined;
    this.log?.info(`${SERVICE}: the bucket ${this.bucket} is back`);
    this.onBack?.();
  }
}

/** Whether a failure of S3Objects was "no such key". */
export function isMissing(error: unknown): boolean {
  return (error as { missing?: boolean } | undefined)?.missing === true;
}
