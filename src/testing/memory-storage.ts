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
import type { PendingPut, PutOptions, Storage, StoredFile } from '../server/storage/storage.js';

/** What outlives one MemoryStorage: give the same to a second one to play a restart. */
export class MemoryVolume {
  readonly files = new Map<string, { file: StoredFile; bytes: Buffer }>();
}

export class MemoryStorage implements Storage {
  constructor(private readonly volume = new MemoryVolume()) {}

  async open(): Promise<void> {}

  async close(): Promise<void> {}

  async list(): Promise<StoredFile[]> {
    return [...this.volume.files.values()]
      .map(({ file }) => file)
      .sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  }

  async read(name: string, start = 0): Promise<{ file: StoredFile; stream: Readable }> {
    const held = this.volume.files.get(name);
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
        const file = { name, size: bytes.length, owner: options.owner, time: Date.now() };
        const stored = { ...file, sha256: expectedSha256 };
        this.volume.files.set(name, { file: stored, bytes });
        return stored;
      },
      abort: discard,
      suspend: discard,
    };
  }

  async remove(name: string, owner: string): Promise<void> {
    const held = this.volume.files.get(name);
    if (!held) throw new FexError('E_NOT_FOUND', { name });
    if (held.file.owner !== owner)
      throw new FexError('E_NOT_OWNER', { name, owner: held.file.owner ?? 'the server operator' });
    this.volume.files.delete(name);
  }

  private checkReplace(name: string, owner: string): void {
    const existing = this.volume.files.get(name)?.file;
    if (existing && existing.owner !== owner)
      throw new FexError('E_NOT_OWNER', { name, owner: existing.owner ?? 'the server operator' });
    if (existing) return;
    const key = nameKey(name);
    for (const other of this.volume.files.keys())
      if (nameKey(other) === key) throw new FexError('E_NAME_CLASH', { existing: other });
  }
}
