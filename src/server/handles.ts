/**
 * The persistent registry of handles. Registering returns a credential (32 random bytes); the
 * registry keeps only its SHA-256, which is enough for a secret of that entropy, and compares in
 * constant time. Handles are unique without regard to case.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FexError } from '../shared/errors.js';
import { handleKey, handleProblem } from '../protocol/names.js';
import { writeDurably } from './durable-file.js';

/** What a registry keeps of a handle: never the credential, only its SHA-256. */
export interface HandleRecord {
  /** As registered, in its original case. */
  handle: string;
  credentialSha256: string;
  /** When it was registered, in epoch milliseconds. */
  created: number;
}

/**
 * What the server needs of a handle registry, whatever keeps it: this file's JSON file, or
 * another backend (a database shared by several servers), hence asynchronous throughout.
 */
export interface HandleStore {
  /** Loads what is there; called once before the server listens. */
  open(): Promise<void>;
  /** Whether `handle` is registered, without regard to case. */
  has(handle: string): Promise<boolean>;
  /**
   * Claims a free handle (E_BAD_HANDLE, E_HANDLE_TAKEN otherwise); resolves with its credential
   * once the claim is durable.
   */
  register(handle: string): Promise<string>;
  /** The handle as registered (its original case) when `credential` is its own; else rejects
   * with E_BAD_CREDENTIAL, taking as long whether or not the handle exists. */
  verify(handle: string, credential: string): Promise<string>;
}

function digest(credential: string): Buffer {
  return createHash('sha256').update(credential, 'utf8').digest();
}

/**
 * A new handle's record and the credential to give its owner once: what every registry does
 * before it claims the handle its own way (refusing a handle that breaks the rules first).
 */
export function newHandle(handle: string): { record: HandleRecord; credential: string } {
  if (handleProblem(handle)) throw new FexError('E_BAD_HANDLE', { handle });
  const credential = randomBytes(32).toString('base64url');
  const record = {
    handle,
    credentialSha256: digest(credential).toString('hex'),
    created: Date.now(),
  };
  return { record, credential };
}

/**
 * The handle as registered when `credential` is the record's own; E_BAD_CREDENTIAL otherwise.
 * Compares even when the handle is unknown (no record), so timing does not tell which exist.
 */
export function checkCredential(
  handle: string,
  credential: string,
  record: HandleRecord | undefined,
): string {
  const given = digest(credential);
  const expected = record
    ? Buffer.from(record.credentialSha256, 'hex')
    : Buffer.alloc(given.length);
  if (expected.length !== given.length || !timingSafeEqual(given, expected) || !record)
    throw new FexError('E_BAD_CREDENTIAL', { handle });
  return record.handle;
}

/** The registry of one server: a JSON file in its folder's `.fex` (the default). */
export class HandleRegistry implements HandleStore {
  private records = new Map<string, HandleRecord>();
  private saving: Promise<void> = Promise.resolve();
  /** The next write, shared by every registration waiting for it. */
  private queued: Promise<void> | undefined;
  private readonly path: string;

  constructor(bookkeepingDir: string) {
    this.path = join(bookkeepingDir, 'handles.json');
  }

  async open(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const data = JSON.parse(text) as { handles?: HandleRecord[] };
    for (const record of data.handles ?? []) this.records.set(handleKey(record.handle), record);
  }

  async has(handle: string): Promise<boolean> {
    return this.records.has(handleKey(handle));
  }

  /** Claims a free handle; resolves with its credential once the claim is on disk. */
  async register(handle: string): Promise<string> {
    const { record, credential } = newHandle(handle);
    const key = handleKey(handle);
    if (this.records.has(key)) throw new FexError('E_HANDLE_TAKEN', { handle });
    this.records.set(key, record);
    try {
      await this.save();
    } catch (error) {
      this.records.delete(key);
      throw error;
    }
    return credential;
  }

  /** The handle as registered (its original case) when the credential is its own. */
  async verify(handle: string, credential: string): Promise<string> {
    return checkCredential(handle, credential, this.records.get(handleKey(handle)));
  }

  /**
   * Writes the registry. Registrations arriving while a write is in flight share the next one
   * (group commit): under a burst of new users the file is written a few times, not once each.
   */
  private save(): Promise<void> {
    this.queued ??= this.saving.then(() => {
      this.queued = undefined;
      const run = this.write();
      this.saving = run.catch(() => undefined);
      return run;
    });
    return this.queued;
  }

  /** Durable before any registration it carries is answered: a handle lost to a power cut
   * could be claimed by someone else, with the first owner's files. */
  private async write(): Promise<void> {
    const text = JSON.stringify({ version: 1, handles: [...this.records.values()] }, null, 1);
    await writeDurably(this.path, text, 0o600);
  }
}
