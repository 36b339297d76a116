/**
 * The client session: one connection to one server, with the operations every front door uses
 * (one-shot commands and the shell alike). It trusts the server no more than the server trusts
 * it: names from the server are checked, downloads are written aside, verified and renamed.
 */
import { EventEmitter } from 'node:events';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import {
  MAX_LISTING_BYTES,
  PROTOCOL_VERSION,
  STORE_BODY_MAX,
  type FileEntry,
  type Header,
  type ServerInfo,
} from '../protocol/constants.js';
import { byCodePoint } from '../shared/code-point-order.js';
import { FILE_ENTRY } from '../protocol/answers.js';
import { changedSizeError, FexError, localIoError, localReadError } from '../shared/errors.js';
import { schemaProblem } from '../protocol/schema.js';
import { handleKey, handleProblem, nameProblem } from '../protocol/names.js';
import { formatServer, type ServerAddress } from '../shared/address.js';
import { ClientConnection } from './connection.js';
import type { Progress } from './upload.js';
import { ACTION } from './actions.js';

/** `load`, called once: a repeated `import()` costs 15-20 µs, every store of a run of 1000. */
function lazily<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => (loaded ??= load());
}

// Loaded when a transfer needs them: `fex dir` and a run of small stores never do, and every
// module costs start-up time (docs/performance.md).
const downloads = lazily(() => import('./download.js'));
const uploads = lazily(() => import('./upload.js'));
// node:crypto too (about 4 ms): only a store hashes anything on this side.
const hashing = lazily(() => import('node:crypto'));

export type { Progress };

export class Session extends EventEmitter {
  handle: string | undefined;
  private leaving: Promise<void> | undefined;

  private constructor(
    readonly address: ServerAddress,
    readonly info: ServerInfo,
    private readonly connection: ClientConnection,
  ) {
    super();
    connection.on('event', (event: Header) => this.emit('event', event));
    connection.on('close', (reason: FexError) => this.emit('close', reason));
  }

  /** Connects and says hello. Any failure to reach a fex server is CONNECT_FAILED. */
  static async open(address: ServerAddress): Promise<Session> {
    const connection = await ClientConnection.open(address);
    let answer: Header;
    try {
      answer = await connection.request({
        type: 'hello',
        version: PROTOCOL_VERSION,
        client: 'fex',
      });
    } catch (error) {
      connection.destroy();
      // A server that is full or too new says so; anything else was not a fex server.
      if (
        error instanceof FexError &&
        ['E_BUSY', 'E_VERSION', 'E_SHUTTING_DOWN'].includes(String(error.code))
      )
        throw error;
      throw new FexError('CONNECT_FAILED');
    }
    return new Session(address, answer as unknown as ServerInfo, connection);
  }

  get server(): string {
    return formatServer(this.address);
  }

  get closed(): boolean {
    return this.connection.closed;
  }

  /** Claims a new handle; resolves with the credential that proves it later. */
  async register(handle: string): Promise<string> {
    // Checked here too, so a bad handle is refused before anything is sent.
    if (handleProblem(handle)) throw new FexError('E_BAD_HANDLE', { handle });
    const answer = await this.connection.request(
      { type: 'register', handle },
      { action: ACTION.register },
    );
    this.handle = answeredHandle(answer, handle);
    if (typeof answer.credential !== 'string' || answer.credential.length === 0)
      throw new FexError('E_BAD_FRAME', { reason: 'the server sent no credential' });
    return answer.credential;
  }

  async login(handle: string, credential: string): Promise<void> {
    const answer = await this.connection.request(
      { type: 'login', handle, credential },
      { action: ACTION.login },
    );
    this.handle = answeredHandle(answer, handle);
  }

  /**
   * Uploads a local file under its base name. `expires`: seconds the server keeps it, 0 for ever,
   * undefined for the server's default.
   */
  async store(path: string, progress?: Progress, expires?: number): Promise<Transferred> {
    return this.storePrepared({ ...(await this.prepareStore(path)), expires }, progress);
  }

  /**
   * What a store needs from the local file. A small file is read whole now, when the server
   * takes it in the request itself, so the request can be sent without waiting for anything.
   */
  async prepareStore(path: string): Promise<PreparedStore> {
    const name = basename(path).normalize('NFC');
    const problem = nameProblem(name);
    if (problem) throw new FexError('E_BAD_NAME', { name, reason: problem });
    const data = this.info.bodies?.includes('store') ? readSmall(path) : undefined;
    if (data) {
      const sha256 = (await hashing()).createHash('sha256').update(data).digest('hex');
      return { path, name, size: data.length, inline: { data, sha256 } };
    }
    let file: FileHandle;
    try {
      file = await open(path, 'r');
    } catch (error) {
      throw localReadError(path, error);
    }
    try {
      const info = await file.stat();
      if (!info.isFile()) throw new FexError('LOCAL_NOT_FOUND');
      return { path, name, size: info.size, file };
    } catch (error) {
      await file.close().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Sends a prepared store and waits for its answer. Stores of small files may be sent one after
   * another without waiting (see store-many.ts); a large one needs the connection to itself.
   */
  async storePrepared(prepared: PreparedStore, progress?: Progress): Promise<Transferred> {
    const { name, size, inline, file } = prepared;
    const expires = prepared.expires === undefined ? {} : { expires: prepared.expires };
    try {
      const answer = inline
        ? await this.connection.request(
            { type: 'store', name, size, sha256: inline.sha256, ...expires },
            { action: ACTION.store },
            inline.data,
          )
        : await this.storeInSteps(
            { type: 'store', name, size, ...expires },
            size,
            file as FileHandle,
            progress,
          );
      if (inline) progress?.(size, size);
      const stored = entryOf(answer);
      if (stored.name !== name)
        throw new FexError('UNSAFE_NAME', { reason: 'it is not the name sent' });
      return { ...stored, resumedFrom: (answer.resumedFrom as number | undefined) ?? 0 };
    } finally {
      await file?.close().catch(() => undefined);
    }
  }

  /** `store`, then on `continue` the body in a `data` frame and its `commit`. */
  private async storeInSteps(
    request: Header,
    size: number,
    file: FileHandle,
    progress: Progress | undefined,
  ): Promise<Header> {
    const { sendUpload } = await uploads();
    return this.connection.request(request, {
      action: ACTION.store,
      onContinue: (offered) => sendUpload(this.connection.writer, file, size, offered, progress),
    });
  }

  /**
   * The listing, or the part of it `options` asks for, in code point order. From a server that
   * pages (its `hello` answer gives `limits.maxDirPage`) it comes a page per request, and each page
   * goes to `onPage` as it arrives (then nothing is kept here); from an older one in one body,
   * filtered here.
   */
  async dir(options: DirOptions = {}): Promise<FileEntry[]> {
    const kept: FileEntry[] = [];
    const deliver = options.onPage ?? ((entries: FileEntry[]) => void kept.push(...entries));
    const { prefix, limit = Infinity } = options;
    const pageSize = count(this.info.limits?.maxDirPage);
    if (pageSize === 0) {
      const { entries } = await this.listing({ type: 'dir' });
      deliver(entries.filter((e) => e.name.startsWith(prefix ?? '')).slice(0, limit));
      return kept;
    }
    let after: string | undefined;
    for (let left = limit; left > 0;) {
      const page = await this.listing({
        type: 'dir',
        ...(after === undefined ? {} : { after }),
        ...(prefix ? { prefix } : {}),
        limit: Math.min(left, pageSize),
      });
      deliver(page.entries.slice(0, left));
      left -= page.entries.length;
      if (page.next === undefined) break;
      // Each page must move on, or a server could keep the client asking for ever.
      if (page.entries.length === 0 || (after !== undefined && byCodePoint(page.next, after) <= 0))
        throw new FexError('E_BAD_FRAME', { reason: 'a listing page that does not move on' });
      after = page.next;
    }
    return kept;
  }

  /** One `dir` request: its entries, checked, and where the next page starts, if one follows. */
  private async listing(request: Header): Promise<{ entries: FileEntry[]; next?: string }> {
    const entries: FileEntry[] = [];
    const answer = await this.connection.request(request, {
      action: ACTION.dir,
      onBody: async (header, body) => {
        if ((header.body ?? 0) > MAX_LISTING_BYTES)
          throw new FexError('E_BAD_FRAME', { reason: 'the listing is too large' });
        const chunks: Buffer[] = [];
        for await (const chunk of body) chunks.push(chunk);
        for (const line of Buffer.concat(chunks).toString('utf8').split('\n')) {
          if (!line) continue;
          let parsed: Header;
          try {
            parsed = JSON.parse(line) as Header;
            if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
              throw new TypeError('not an object');
          } catch {
            throw new FexError('E_BAD_FRAME', { reason: 'the listing is not JSON lines' });
          }
          // Outside the try: a line of JSON that is no file entry says so, not "not JSON".
          entries.push(entryOf(parsed));
        }
      },
    });
    for (const entry of entries) {
      const problem = nameProblem(entry.name);
      if (problem) throw new FexError('UNSAFE_NAME', { reason: problem });
    }
    const next = answer.next;
    if (next !== undefined && typeof next !== 'string')
      throw new FexError('E_BAD_FRAME', { reason: 'a listing page that does not move on' });
    return { entries, next };
  }

  /** Downloads `name` to `destination` (a file path), verified before it appears there. */
  async get(name: string, destination: string, progress?: Progress): Promise<Transferred> {
    const problem = nameProblem(name);
    if (problem) throw new FexError('E_BAD_NAME', { name, reason: problem });
    let entry: Transferred | undefined;
    const { heldPart, receiveFile } = await downloads();
    const held = await heldPart(destination, name);
    await this.connection.request(
      { type: 'get', name, ...held },
      {
        action: ACTION.get,
        onBody: async (header, body) => {
          const offset = (header.offset as number | undefined) ?? 0;
          entry = { ...entryOf(header), resumedFrom: offset };
          if (entry.name !== name)
            throw new FexError('UNSAFE_NAME', { reason: 'it is not the name asked for' });
          if (offset !== 0 && offset !== held?.offset)
            throw new FexError('E_BAD_FRAME', { reason: 'resumed at an offset not asked for' });
          if (header.body !== entry.size - offset)
            throw new FexError('E_BAD_FRAME', { reason: 'body length differs from size' });
          await receiveFile(destination, entry, offset, body, progress);
        },
      },
    );
    if (!entry) throw new FexError('E_BAD_FRAME', { reason: 'the answer carried no file' });
    return entry;
  }

  /** Deletes a file this handle stored; resolves with the file as it was. */
  async delete(name: string): Promise<FileChange> {
    const problem = nameProblem(name);
    if (problem) throw new FexError('E_BAD_NAME', { name, reason: problem });
    return this.fileAnswer(
      await this.connection.request({ type: 'delete', name }, { action: ACTION.delete }),
      name,
    );
  }

  /**
   * Renames a file this handle stored; resolves with the file under its new name. The new name is
   * taken in NFC, as a stored file's name is; the old one is exact, as a name to `get` is.
   */
  async rename(from: string, newName: string): Promise<FileChange> {
    const to = newName.normalize('NFC');
    for (const name of [from, to]) {
      const problem = nameProblem(name);
      if (problem) throw new FexError('E_BAD_NAME', { name, reason: problem });
    }
    return this.fileAnswer(
      await this.connection.request({ type: 'rename', name: from, to }, { action: ACTION.rename }),
      to,
    );
  }

  /** Deletes any file as the server's operator, proven by `key` (the server's operator key). */
  async operatorDelete(name: string, key: string): Promise<FileChange> {
    const problem = nameProblem(name);
    if (problem) throw new FexError('E_BAD_NAME', { name, reason: problem });
    return this.fileAnswer(
      await this.connection.request(
        { type: 'operator-delete', name, key },
        { action: ACTION.delete },
      ),
      name,
    );
  }

  /** The file an answer describes, which must be the one asked about, and when it changed. */
  private fileAnswer(answer: Header, name: string): FileChange {
    const entry = entryOf(answer);
    if (entry.name !== name)
      throw new FexError('UNSAFE_NAME', { reason: 'it is not the name asked for' });
    return { ...entry, at: answer.at as number };
  }

  /**
   * Any request type, for plugin commands: resolves with the server's answer (without body).
   * `action` names it in errors ("Broadcast failed. Please connect to the server first.").
   */
  async call(type: string, fields: Record<string, unknown>, action: string): Promise<Header> {
    // The frame's own fields are the session's to set, not the caller's.
    const own = new Set(['type', 'id', 'body']);
    const rest = Object.fromEntries(Object.entries(fields).filter(([key]) => !own.has(key)));
    return this.connection.request({ ...rest, type }, { action });
  }

  /** Says goodbye and closes; never throws. Calling it again waits for the same goodbye. */
  leave(): Promise<void> {
    this.leaving ??= (async () => {
      if (!this.connection.closed)
        await this.connection.request({ type: 'leave' }).catch(() => undefined);
      this.connection.close();
    })();
    return this.leaving;
  }

  close(): void {
    this.connection.destroy();
  }
}

/** A local file ready to be stored: read whole when small, else open for streaming. */
export interface PreparedStore {
  path: string;
  /** The name it is stored under: the base name, in NFC. */
  name: string;
  size: number;
  /** The whole file and its SHA-256, to send in the request itself. */
  inline?: { data: Buffer; sha256: string };
  /** The open file, when it is sent in steps (continue, data, commit); closed once sent. */
  file?: FileHandle;
  /** Seconds the server keeps it, 0 for ever; undefined for the server's default. */
  expires?: number;
}

/**
 * A regular file of at most STORE_BODY_MAX bytes, read whole; undefined for a larger one (sent
 * in steps). Synchronous on purpose: a few tiny system calls cost far less than four thread-pool
 * round trips, and this is what a run of small stores spends its time on. The open does not
 * block on a FIFO, which fstat then refuses.
 */
function readSmall(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw localReadError(path, error);
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw new FexError('LOCAL_NOT_FOUND');
    if (info.size > STORE_BODY_MAX) return undefined;
    // One byte more than measured, to notice a file that grew since.
    const buffer = Buffer.allocUnsafe(info.size + 1);
    let got = 0;
    for (let n = -1; n !== 0 && got < buffer.length; got += n)
      n = readSync(fd, buffer, got, buffer.length - got, got);
    if (got !== info.size) throw changedSizeError(path, info.size);
    return buffer.subarray(0, got);
  } catch (error) {
    throw error instanceof FexError ? error : localIoError('read', path, error);
  } finally {
    closeSync(fd);
  }
}

/** A file deleted or renamed (under its new name), and when the server did it. */
export interface FileChange extends FileEntry {
  at: number;
}

/** Which part of the listing `dir()` fetches, and where its pages go. */
export interface DirOptions {
  /** Only names that start with this. */
  prefix?: string;
  /** At most this many entries. */
  limit?: number;
  /** Receives each page as it arrives; `dir()` then keeps nothing and resolves with []. */
  onPage?: (entries: FileEntry[]) => void;
}

/** A file sent or received, and the byte it resumed from (0 when it started afresh). */
export interface Transferred extends FileEntry {
  resumedFrom: number;
}

/**
 * A count inside a field the answer's schema checks only as an object (`limits` of `hello`): 0,
 * "not given", unless it is a safe non-negative integer.
 */
const count = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0);

/** A file's description from the server, refused unless every field is what it must be. */
function entryOf(header: Header): FileEntry {
  const { name, owner } = header;
  if (typeof name !== 'string') throw new FexError('UNSAFE_NAME', { reason: 'no name' });
  // The owner is printed by `dir --long`: nothing but a handle.
  if (owner !== null && (typeof owner !== 'string' || handleProblem(owner)))
    throw new FexError('UNSAFE_NAME', { reason: 'an owner that is not a handle' });
  // Answers were checked against the same schema on arrival; a listing's lines are checked here.
  const problem = schemaProblem(header, FILE_ENTRY, { extra: 'ignore' });
  if (problem) throw new FexError('E_BAD_FRAME', { reason: `a file entry: ${problem}` });
  const { size, time, sha256, expires } = header as unknown as FileEntry;
  return { name, size, owner, time, sha256, ...(expires === undefined ? {} : { expires }) };
}

/** The handle the server says this connection now is: it must be the one asked for. */
function answeredHandle(answer: Header, asked: string): string {
  const handle = answer.handle;
  if (typeof handle !== 'string' || handleProblem(handle) || handleKey(handle) !== handleKey(asked))
    throw new FexError('E_BAD_FRAME', { reason: 'the server answered for another handle' });
  return handle;
}
