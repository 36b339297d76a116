/**
 * The reference storage backend: the whole Storage contract in a few lines, every file held in
 * memory. It shows a backend's author what the contract asks and nothing more; it passes the
 * contract suite beside the local backend. Not for serving files: it keeps whole files in memory
 * and nothing on disk. It does not resume (the contract allows that: `offset` is always 0).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { FexError } from '../shared/errors.js';
import { nameKey, nameProblem } from '../protocol/names.js';
import { byCodePoint } from '../shared/code-point-order.js';
import { committedFile, isExpired, notOwner } from '../server/storage/meta-record.js';
import type {
  ExpireResult,
  ListOptions,
  PendingPut,
  PutOptions,
  Storage,
  StoredFile,
} from '../server/storage/storage.js';

/** What outlives one MemoryStorage: give the same to a second one to play a restart. */
export class MemoryVolume {
  readonly files = new Map<string, { file: StoredFile; bytes: Buffer }>();
}

export class MemoryStorage implements Storage {
  constructor(private readonly volume = new MemoryVolume()) {}

  async open(): Promise<void> {}

  async close(): Promise<void> {}

  // A scan and a sort per page: simple, where LocalStorage keeps a sorted index instead.
  async list(options: ListOptions = {}): Promise<StoredFile[]> {
    const { after, prefix = '', limit = Infinity } = options;
    const now = Date.now();
    const wanted = (file: StoredFile) =>
      !isExpired(file, now) &&
      file.name.startsWith(prefix) &&
      (after === undefined || byCodePoint(file.name, after) > 0);
    return [...this.volume.files.values()]
      .map(({ file }) => file)
      .filter(wanted)
      .sort((a, b) => byCodePoint(a.name, b.name))
      .slice(0, Math.max(0, limit));
  }

  async count(owner?: string | null): Promise<number> {
    let n = 0;
    for (const { file } of this.volume.files.values())
      if (owner === undefined || file.owner === owner) n++;
    return n;
  }

  async read(name: string, start = 0): Promise<{ file: StoredFile; stream: Readable }> {
    const held = this.live(name);
    if (!held) throw new FexError('E_NOT_FOUND', { name });
    // A replacement stores a new Buffer: this reader keeps the one it was given.
    return { file: held.file, stream: Readable.from([held.bytes.subarray(start)]) };
  }

  async put(name: string, options: PutOptions): Promise<PendingPut> {
    const problem = nameProblem(name);
    if (problem) throw new FexError('E_BAD_NAME', { name, reason: problem });
    this.checkReplace(name, options.owner);
    let parts: Buffer[] = [];
    let hash = createHash('sha256');
    let done = false;
    const discard = async () => {
      done = true;
      parts = [];
    };
    return {
      offset: 0,
      prefixSha256: undefined,
      restart: async () => {
        parts = [];
        hash = createHash('sha256');
      },
      write: async (body) => {
        let written = 0;
        for await (const chunk of body) {
          parts.push(chunk);
          hash.update(chunk);
          written += chunk.length;
        }
        return written;
      },
      commit: async (expectedSha256) => {
        if (done) throw new FexError('E_INTERNAL', { reason: 'the upload has ended' });
        const bytes = Buffer.concat(parts);
        await discard();
        if (bytes.length !== options.size)
          throw new FexError('E_SIZE', { name, got: bytes.length, expected: options.size });
        if (hash.digest('hex') !== expectedSha256) throw new FexError('E_CHECKSUM', { name });
        // No await from the check to the change: commits of one name take turns.
        this.checkReplace(name, options.owner);
        const stored = committedFile(name, bytes.length, options, expectedSha256);
        this.volume.files.set(name, { file: stored, bytes });
        return stored;
      },
      abort: discard,
      suspend: discard,
    };
  }

  async remove(name: string, owner: string | undefined): Promise<StoredFile> {
    const held = this.live(name);
    if (!held) throw new FexError('E_NOT_FOUND', { name });
    if (owner !== undefined && held.file.owner !== owner) throw notOwner(held.file, 'delete');
    this.volume.files.delete(name);
    return held.file;
  }

  async rename(from: string, to: string, owner: string): Promise<StoredFile> {
    for (const name of [from, to]) {
      const problem = nameProblem(name);
      if (problem) throw new FexError('E_BAD_NAME', { name, reason: problem });
    }
    const held = this.live(from);
    if (!held) throw new FexError('E_NOT_FOUND', { name: from });
    if (held.file.owner !== owner) throw notOwner(held.file, 'rename');
    const target = this.live(to)?.file;
    if (target)
      throw target.owner === owner
        ? new FexError('E_NAME_TAKEN', { name: to })
        : notOwner(target, 'replace');
    const key = nameKey(to);
    for (const other of this.volume.files.keys())
      if (other !== from && nameKey(other) === key && this.live(other))
        throw new FexError('E_NAME_CLASH', { existing: other });
    // Synchronous from here: the file is under exactly one of the two names at any moment.
    const file = { ...held.file, name: to };
    this.volume.files.delete(from);
    this.volume.files.set(to, { file, bytes: held.bytes });
    return file;
  }

  async expire(now: number): Promise<ExpireResult> {
    const expired: StoredFile[] = [];
    let next: number | undefined;
    for (const [name, { file }] of this.volume.files)
      if (isExpired(file, now)) {
        this.volume.files.delete(name);
        expired.push(file);
      } else if (file.expires !== undefined && (next === undefined || file.expires < next))
        next = file.expires;
    return { expired, next };
  }

  /** A stored file whose expiry time has not come: an expired one is gone for every caller. */
  private live(name: string): { file: StoredFile; bytes: Buffer } | undefined {
    const held = this.volume.files.get(name);
    return held && !isExpired(held.file) ? held : undefined;
  }

  private checkReplace(name: string, owner: string): void {
    const existing = this.live(name)?.file;
    if (existing && existing.owner !== owner) throw notOwner(existing, 'replace');
    if (existing) return;
    const key = nameKey(name);
    for (const other of this.volume.files.keys())
      if (other !== name && nameKey(other) === key && this.live(other))
        throw new FexError('E_NAME_CLASH', { existing: other });
  }
}
