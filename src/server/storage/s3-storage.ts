/**
 * The object-storage backend: each file's bytes are one object under a private key
 * (`PREFIX/objects/ID/<random>`), never under the file's name; the file index (file-index.ts) maps
 * names to objects and decides ownership, so nothing half-written is ever listed or served, and
 * a replacement is one atomic switch in the index followed by the deletion of the old object.
 * Uploads are multipart (s3-pending-put.ts) and resumable on any server sharing the index.
 * Objects no record names (left by a crash, or by a delete while the store was away) are found
 * by listing the bucket at each partial-upload sweep and deleted (sweepOrphans).
 * docs/storage.md, "S3 backend".
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { FexError } from '../../shared/errors.js';
import type { Logger } from '../logger.js';
import { nameProblem } from '../../protocol/names.js';
import { eachLimited } from './checkpoint.js';
import { DEFAULT_PART_SIZE, MIN_PART_SIZE } from './s3-limits.js';
import type { FileIndex, HeldPart, IndexedFile, PartialUpload } from './file-index.js';
import { isExpired, publicView } from './meta-record.js';
import { isMissing, type ListedObject, type S3Objects } from './s3-objects.js';
import { SERVICE } from './s3-failures.js';
import { S3PendingPut, type S3PutHost } from './s3-pending-put.js';
import type {
  ExpireResult,
  ListOptions,
  PendingPut,
  PutOptions,
  Storage,
  StoredFile,
} from './storage.js';

export interface S3StorageOptions {
  /** Where the objects go, e.g. "team-a/" ('' for the bucket's root). */
  prefix?: string;
  /** Bytes per part of a multipart upload; at least 5 MiB (the S3 minimum). Default 8 MiB. */
  partSize?: number;
  /** How long a cut-off upload is kept for resuming before it is aborted. Default one day. */
  partialTtlMs?: number;
  /** How the bucket is named in a start-up failure, e.g. "s3://fex/team-a". */
  describe?: string;
  /** Where a sweep that deleted orphaned objects says so; none in tests of the storage alone. */
  log?: Logger;
  /**
   * The lasting id of the file index these objects belong to (the cluster's id in Redis, else the
   * server's own): new objects go under PREFIX/objects/ID/, and the orphan sweep looks there
   * only, so it never judges an object another index names (a second server or cluster on the
   * same prefix, a server of an older version, which writes PREFIX/objects/<random>). Without
   * it, objects go directly under PREFIX/objects/ and nothing is swept as an orphan.
   */
  indexId?: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Names asked of the index at once while a listing skips expired files. */
const PAGE = 1000;
const EXPIRE_BATCH = 256;
const EXPIRE_CONCURRENCY = 16;

export class S3Storage implements Storage {
  private readonly prefix: string;
  private readonly partSize: number;
  private readonly partialTtlMs: number;
  /** Partial-upload ids an upload of this process holds: a second one starts its own. */
  private readonly active = new Set<string>();
  /** Hash states at part boundaries of uploads cut off in this process, for a local resume. */
  private readonly hashes = new Map<string, { uploadId: string; parts: number; hash: Hash }>();
  /**
   * Objects of deleted, renamed-over or replaced files whose deletion met the store away: the
   * names are gone already, and the objects are deleted when the store is back (or at the next
   * sweep). Kept in memory: a restart meanwhile leaves them as orphans (docs/storage.md).
   */
  private readonly leftovers = new Set<string>();
  private readonly sweepEvery: number;
  private sweeper: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private readonly host: S3PutHost;
  private readonly describe: string;
  private readonly log: Logger | undefined;
  /** Where this index's objects go: PREFIX/objects/ID/ (or PREFIX/objects/ without an id). */
  private readonly objectsDir: string;
  private readonly indexId: string | undefined;

  constructor(
    private readonly objects: S3Objects,
    private readonly index: FileIndex,
    options: S3StorageOptions = {},
  ) {
    this.prefix = options.prefix ?? '';
    this.partSize = Math.max(MIN_PART_SIZE, options.partSize ?? DEFAULT_PART_SIZE);
    this.partialTtlMs = options.partialTtlMs ?? DAY_MS;
    this.describe = options.describe ?? `the bucket ${objects.bucket}`;
    this.log = options.log;
    this.indexId = options.indexId;
    this.objectsDir = `${this.prefix}objects/${this.indexId === undefined ? '' : `${this.indexId}/`}`;
    this.sweepEvery = Math.min(this.partialTtlMs, 3_600_000);
    this.host = {
      objects,
      index,
      partSize: this.partSize,
      keepHash: (id, held) => {
        if (held) this.hashes.set(id, held);
        else this.hashes.delete(id);
      },
      release: (id) => void this.active.delete(id),
      discard: (object) => objects.delete(object).catch(() => void this.leftovers.add(object)),
    };
    objects.onBack = () => void this.deleteLeftovers();
  }

  /** Deletes the objects left over while the store was away; those it still cannot stay. */
  private async deleteLeftovers(): Promise<void> {
    const objects = [...this.leftovers];
    this.leftovers.clear();
    await eachLimited(objects, EXPIRE_CONCURRENCY, (object) => this.host.discard(object));
  }

  async open(): Promise<void> {
    try {
      await this.index.open();
      await this.objects.checkBucket();
    } catch (error) {
      const reason = error instanceof FexError ? (error.details.reason ?? error.message) : error;
      throw new FexError('SERVE_FAILED', { reason: `cannot use ${this.describe}: ${reason}` });
    }
    await this.sweepPartials();
    this.sweeper = setInterval(() => void this.sweepPartials(), this.sweepEvery);
    this.sweeper.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.sweeping;
    await this.index.close();
  }

  async list(options: ListOptions = {}): Promise<StoredFile[]> {
    const { prefix, limit = Infinity } = options;
    const files: StoredFile[] = [];
    const now = Date.now();
    let after = options.after;
    // An expired file not yet swept is skipped, and the page filled from the names after it.
    while (files.length < limit) {
      const want = Math.min(limit - files.length, PAGE);
      const page = await this.index.page({ after, prefix, limit: want });
      for (const file of page) if (!isExpired(file, now)) files.push(publicView(file));
      if (page.length < want) break;
      after = page[page.length - 1]!.name;
    }
    return files;
  }

  count(owner?: string | null): Promise<number> {
    return this.index.count(owner);
  }

  async put(name: string, options: PutOptions): Promise<PendingPut> {
    const problem = nameProblem(name);
    if (problem) throw new FexError('E_BAD_NAME', { name, reason: problem });
    await this.index.check(name, options.owner, Date.now());
    const id = createHash('sha256')
      .update(`${options.owner}\0${name}\0${options.size}`)
      .digest('hex');
    const start = { name, options, id, object: this.newObject() };
    if (options.resumable === false || this.active.has(id))
      return new S3PendingPut(this.host, { ...start, resumable: false });
    this.active.add(id);
    try {
      const partial = await this.index.takePartial(id, Date.now());
      if (!partial) return new S3PendingPut(this.host, { ...start, resumable: true });
      const parts = offerable(partial.parts);
      const kept = this.hashes.get(id);
      this.hashes.delete(id);
      const hash =
        kept && kept.uploadId === partial.uploadId && kept.parts === parts.length
          ? kept.hash.copy()
          : undefined;
      return new S3PendingPut(this.host, {
        ...start,
        resumable: true,
        partial: { ...partial, parts },
        ...(hash ? { hash } : {}),
      });
    } catch (error) {
      this.active.delete(id);
      throw error;
    }
  }

  async read(name: string, start = 0): Promise<{ file: StoredFile; stream: Readable }> {
    let missing: IndexedFile | undefined;
    for (;;) {
      const file = await this.index.get(name);
      if (!file || isExpired(file)) throw new FexError('E_NOT_FOUND', { name });
      const from = Math.min(start, file.size);
      if (from === file.size) return { file: publicView(file), stream: Readable.from([]) };
      try {
        return { file: publicView(file), stream: await this.objects.get(file.object, from) };
      } catch (error) {
        // Replaced or removed between the lookup and the GET: look again. The same record
        // twice without its object is a store that lost it.
        if (!isMissing(error)) throw error;
        if (missing?.object === file.object)
          throw new FexError('E_INTERNAL', {
            reason: `the bytes of ${name} are missing from the object store`,
          });
        missing = file;
      }
    }
  }

  async remove(name: string, owner: string | undefined): Promise<StoredFile> {
    const file = await this.index.remove(name, owner, Date.now());
    await this.host.discard(file.object);
    return publicView(file);
  }

  async rename(from: string, to: string, owner: string): Promise<StoredFile> {
    for (const name of [from, to]) {
      const problem = nameProblem(name);
      if (problem) throw new FexError('E_BAD_NAME', { name, reason: problem });
    }
    // Only the index changes: the object keeps its private key.
    const { file, previous } = await this.index.rename(from, to, owner, Date.now());
    if (previous) await this.host.discard(previous.object);
    return publicView(file);
  }

  async expire(now: number): Promise<ExpireResult> {
    const expired: StoredFile[] = [];
    for (;;) {
      const { names } = await this.index.due(now, EXPIRE_BATCH);
      await eachLimited(names, EXPIRE_CONCURRENCY, async (name) => {
        const file = await this.index.expireOne(name, now);
        if (!file) return;
        await this.host.discard(file.object);
        expired.push(publicView(file));
      });
      if (names.length < EXPIRE_BATCH) break;
    }
    const { next } = await this.index.due(now, 0);
    return { expired, next };
  }

  private newObject(): string {
    return `${this.objectsDir}${randomUUID()}`;
  }

  /**
   * Aborts the multipart uploads nobody resumed in time; one server wins each (dropPartial).
   * Then deletes the orphaned objects.
   */
  private sweepPartials(): Promise<void> {
    this.sweeping ??= (async () => {
      try {
        await this.deleteLeftovers();
        const stale = await this.index.stalePartials(Date.now() - this.partialTtlMs);
        for (const partial of stale) await this.abandon(partial);
        await this.sweepOrphans();
      } catch {
        // The index or the store is away: the next sweep tries again.
      } finally {
        this.sweeping = undefined;
      }
    })();
    return this.sweeping;
  }

  /**
   * Lists this index's objects (PREFIX/objects/ID/), a page at a time, and deletes those older than the
   * partial-upload expiry that the index hands out as orphans: no file and no partial upload
   * names them, checked and marked in one atomic step that a commit of the object can never
   * interleave with (claimOrphans; docs/storage.md, "Orphans"). A store in flight is younger
   * than the expiry, or named by its partial upload, or refused at its commit.
   */
  private async sweepOrphans(): Promise<void> {
    if (this.indexId === undefined) return;
    let count = 0;
    let bytes = 0;
    try {
      for await (const page of this.objects.pages(this.objectsDir)) {
        const now = Date.now();
        const old = new Map<string, ListedObject>();
        for (const listed of page)
          if (listed.modified < now - this.partialTtlMs) old.set(listed.key, listed);
        if (old.size === 0) continue;
        const claimed = await this.index.claimOrphans(
          [...old.keys()],
          now,
          now - this.sweepEvery / 2,
        );
        await eachLimited(claimed, EXPIRE_CONCURRENCY, async (key) => {
          // Not deleted now (the store away): still unnamed, it is claimed again next sweep.
          await this.objects.delete(key);
          count += 1;
          bytes += old.get(key)!.size;
        });
      }
    } finally {
      if (count > 0)
        this.log?.info(
          `${SERVICE}: deleted ${count} orphaned object${count === 1 ? '' : 's'} (${bytes} bytes) in ${this.describe}`,
        );
    }
  }

  private async abandon(partial: PartialUpload): Promise<void> {
    if (this.active.has(partial.id)) return;
    if (!(await this.index.dropPartial(partial.id, partial.generation))) return;
    this.hashes.delete(partial.id);
    // The store away: the record comes back, for the next sweep to try again.
    if (!(await this.objects.abortMultipart(partial.object, partial.uploadId)))
      await this.index.savePartial({ ...partial, parts: [], generation: 0 });
  }
}

/** The leading parts whose prefix SHA-256 is known: a resume can be offered up to the last. */
function offerable(parts: HeldPart[]): HeldPart[] {
  const known = parts.findIndex((part) => part.prefixSha256 === undefined);
  return known === -1 ? parts : parts.slice(0, known);
}
