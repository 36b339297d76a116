/**
 * One upload into the S3 backend. The body is cut into parts of `partSize` bytes; each full part
 * is uploaded (one at a time, while the next one fills: memory stays at about two parts) to a
 * multipart upload under a private object key, and recorded in the file index with its ETag,
 * size and the SHA-256 of the file up to its end, so any server can resume after it. A file of at
 * most one part is one PutObject at commit. At commit the whole-file SHA-256 is checked (before
 * completing, when this process hashed every byte; else by reading the completed object back),
 * then the index points the name at the object in one atomic step, and the replaced version's
 * object is deleted.
 */
import { createHash, type Hash } from 'node:crypto';
import { FexError, hasCode } from '../../shared/errors.js';
import type { FileIndex, HeldPart, PartialUpload } from './file-index.js';
import { committedFile } from './meta-record.js';
import type { S3Objects } from './s3-objects.js';
import type { PendingPut, PutOptions, StoredFile } from './storage.js';

/** What an upload needs of its storage. */
export interface S3PutHost {
  objects: S3Objects;
  index: FileIndex;
  partSize: number;
  /** The hash state at a part boundary, kept for a resume in this process; none: forget it. */
  keepHash(id: string, held: { uploadId: string; parts: number; hash: Hash } | undefined): void;
  /** Called once the upload is over (committed, kept for resuming, or discarded). */
  release(id: string): void;
  /** Deletes a replaced version's object, after the switch. */
  discard(object: string): Promise<void>;
}

export interface S3PutStart {
  name: string;
  options: PutOptions;
  /** The partial-upload id, of (owner, name, size). */
  id: string;
  /** false: recorded nowhere, discarded on suspend (a second concurrent upload, or unresumable). */
  resumable: boolean;
  /** The upload cut off earlier, taken over; none for a fresh one. */
  partial?: PartialUpload;
  /** The hash state after the partial's parts, when this process has it. */
  hash?: Hash;
  /** The private object key of a fresh upload. */
  object: string;
}

export class S3PendingPut implements PendingPut {
  private readonly name: string;
  private readonly options: PutOptions;
  private readonly id: string;
  private resumable: boolean;
  /** Whether this upload holds the id in this process (released when it is over). */
  private readonly holdsId: boolean;
  private object: string;
  private uploadId: string | undefined;
  private generation: number;
  private parts: HeldPart[];
  /** The running SHA-256 of every byte so far; undefined when the held parts' state is elsewhere. */
  private hash: Hash | undefined;
  /** The hash state at the end of the last recorded part. */
  private recordedHash: Hash | undefined;
  private fill: Buffer[] = [];
  private fillBytes = 0;
  private written: number;
  private inflight: Promise<void> | undefined;
  private completed = false;
  private done = false;
  readonly offset: number;

  constructor(
    private readonly host: S3PutHost,
    start: S3PutStart,
  ) {
    this.name = start.name;
    this.options = start.options;
    this.id = start.id;
    this.resumable = start.resumable;
    this.holdsId = start.resumable;
    const { partial } = start;
    this.object = partial?.object ?? start.object;
    this.uploadId = partial?.uploadId;
    this.generation = partial?.generation ?? 0;
    this.parts = partial?.parts ?? [];
    this.hash = start.hash ?? (this.parts.length === 0 ? createHash('sha256') : undefined);
    this.recordedHash = this.hash?.copy();
    this.offset = this.parts.reduce((sum, part) => sum + part.size, 0);
    this.written = this.offset;
  }

  get prefixSha256(): string | undefined {
    return this.offset > 0 ? this.parts[this.parts.length - 1]?.prefixSha256 : undefined;
  }

  async restart(): Promise<void> {
    await this.settle();
    await this.dropUpload();
    this.parts = [];
    this.hash = createHash('sha256');
    this.recordedHash = this.hash.copy();
    this.fill = [];
    this.fillBytes = 0;
    this.written = 0;
  }

  async write(body: AsyncIterable<Buffer>): Promise<number> {
    const multipart = this.options.size > this.host.partSize;
    for await (const chunk of body) {
      this.written += chunk.length;
      if (this.written > this.options.size) break;
      let rest = chunk;
      while (multipart && this.fillBytes + rest.length >= this.host.partSize) {
        const take = this.host.partSize - this.fillBytes;
        this.fill.push(rest.subarray(0, take));
        this.fillBytes += take;
        rest = rest.subarray(take);
        // Waiting for the part before is the backpressure: the socket is not read meanwhile.
        await this.cutPart();
      }
      if (rest.length > 0) {
        this.fill.push(rest);
        this.fillBytes += rest.length;
      }
    }
    await this.inflight;
    return this.written;
  }

  async commit(expectedSha256: string): Promise<StoredFile> {
    try {
      await this.inflight;
      const { size } = this.options;
      if (this.written !== size)
        throw new FexError('E_SIZE', { name: this.name, got: this.written, expected: size });
      const last = Buffer.concat(this.fill, this.fillBytes);
      this.fill = [];
      this.hash?.update(last);
      if (this.hash && this.hash.digest('hex') !== expectedSha256)
        throw new FexError('E_CHECKSUM', { name: this.name });
      if (this.uploadId === undefined) {
        await this.host.objects.put(this.object, last);
        this.completed = true;
      } else {
        if (last.length > 0) await this.upload(this.parts.length + 1, last, undefined);
        await this.host.objects.complete(this.object, this.uploadId, this.parts);
        this.completed = true;
        // Resumed from another server's parts: only the object itself can vouch for them.
        if (!this.hash && (await this.host.objects.sha256(this.object)) !== expectedSha256)
          throw new FexError('E_CHECKSUM', { name: this.name });
      }
      const stored = committedFile(this.name, size, this.options, expectedSha256);
      const partial = this.uploadId !== undefined && this.resumable ? this.id : undefined;
      let displaced;
      try {
        displaced = await this.host.index.commit(
          { ...stored, object: this.object },
          Date.now(),
          partial,
        );
      } catch (error) {
        // A refusal leaves the object unreferenced; a failure of the index may have committed,
        // so the object stays (at worst an orphan) rather than a name without its bytes.
        if (!isRefusal(error)) this.completed = false;
        throw error;
      }
      this.finish();
      if (displaced.previous) await this.host.discard(displaced.previous.object);
      return stored;
    } catch (error) {
      // The store away before the object was whole: its parts stay for the next attempt.
      if (!this.completed && hasCode(error, 'E_UNAVAILABLE')) await this.suspend();
      else await this.abort();
      throw error;
    }
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.finish();
    await this.settle();
    if (this.completed) await this.host.discard(this.object);
    else await this.dropUpload().catch(() => undefined);
  }

  async suspend(): Promise<void> {
    if (this.done) return;
    await this.settle();
    if (!this.resumable || this.uploadId === undefined || this.parts.length === 0)
      return this.abort();
    this.host.keepHash(
      this.id,
      this.recordedHash && {
        uploadId: this.uploadId,
        parts: this.parts.length,
        hash: this.recordedHash,
      },
    );
    this.finish();
  }

  /** Uploads the full part in `fill`, after the part before it is recorded. */
  private async cutPart(): Promise<void> {
    await this.inflight;
    const part = Buffer.concat(this.fill, this.fillBytes);
    this.fill = [];
    this.fillBytes = 0;
    this.hash?.update(part);
    const prefix = this.hash?.copy();
    const upload = this.upload(this.parts.length + 1, part, prefix);
    this.inflight = upload;
    // Awaited by the next part or the commit; a failure must not go unhandled meanwhile.
    upload.catch(() => undefined);
  }

  private async upload(number: number, body: Buffer, prefix: Hash | undefined): Promise<void> {
    if (this.uploadId === undefined) {
      this.uploadId = await this.host.objects.createMultipart(this.object);
      if (this.resumable && !(await this.record())) this.resumable = false;
    }
    const etag = await this.host.objects.uploadPart(this.object, this.uploadId, number, body);
    const prefixSha256 = prefix?.copy().digest('hex');
    this.parts.push({ number, etag, size: body.length, ...(prefixSha256 ? { prefixSha256 } : {}) });
    this.recordedHash = prefix;
    if (this.resumable && !(await this.record()))
      throw new FexError('E_INTERNAL', {
        reason: `the upload of ${this.name} was taken over by another connection`,
      });
  }

  /** Saves the upload's state in the index; false when another server has taken it over. */
  private record(): Promise<boolean> {
    return this.host.index.savePartial(this.state(this.uploadId as string));
  }

  private state(uploadId: string): PartialUpload {
    return {
      id: this.id,
      owner: this.options.owner,
      name: this.name,
      size: this.options.size,
      object: this.object,
      uploadId,
      parts: this.parts,
      generation: this.generation,
      updated: Date.now(),
    };
  }

  /**
   * Aborts the multipart upload and forgets its record, if this upload still holds it. When the
   * store cannot be reached, a record without parts stays for the partial-upload sweep to abort
   * it later (or for the same file's next upload to reuse it).
   */
  private async dropUpload(): Promise<void> {
    const uploadId = this.uploadId;
    this.uploadId = undefined;
    if (uploadId === undefined) return;
    const ours = this.resumable
      ? await this.host.index.dropPartial(this.id, this.generation)
      : true;
    this.generation = 0;
    if (!ours || (await this.host.objects.abortMultipart(this.object, uploadId))) return;
    if (this.resumable)
      await this.host.index
        .savePartial({ ...this.state(uploadId), parts: [], generation: 0 })
        .catch(() => undefined);
  }

  /** Waits for the part in flight, whatever its outcome. */
  private async settle(): Promise<void> {
    await this.inflight?.catch(() => undefined);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    if (this.holdsId) this.host.release(this.id);
  }
}

function isRefusal(error: unknown): boolean {
  return hasCode(error, 'E_NOT_OWNER', 'E_NAME_CLASH');
}
