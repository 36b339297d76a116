/**
 * The client session: one connection to one server, with the operations every front door uses
 * (one-shot commands and the shell alike). It trusts the server no more than the server trusts
 * it: names from the server are checked, downloads are written aside, verified and renamed.
 */
import { EventEmitter } from 'node:events';
import type { FileHandle } from 'node:fs/promises';
import {
  PROTOCOL_VERSION,
  type FileEntry,
  type Header,
  type ServerInfo,
} from '../protocol/constants.js';
import { FexError } from '../shared/errors.js';
import { handleProblem, refuseBadName } from '../protocol/names.js';
import { formatServer, type ServerAddress } from '../shared/address.js';
import { ClientConnection } from './connection.js';
import type { Progress } from './upload.js';
import { ACTION } from './actions.js';
import { answeredHandle, entryOf } from './file-entry.js';
import { lazily } from './lazily.js';
import { listFiles, type DirOptions } from './listing.js';
import type { PreparedStore } from './prepare-store.js';

// Loaded when a transfer needs them: `fex dir` and a run of small stores never do, and every
// module costs start-up time (docs/performance.md).
const downloads = lazily(() => import('./download.js'));
const uploads = lazily(() => import('./upload.js'));
const preparing = lazily(() => import('./prepare-store.js'));

export type { DirOptions, PreparedStore, Progress };

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
    const { prepareStore } = await preparing();
    return prepareStore(path, this.info.bodies?.includes('store') === true);
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

  /** The listing, or the part of it `options` asks for, in code point order (listing.ts). */
  async dir(options: DirOptions = {}): Promise<FileEntry[]> {
    return listFiles(this.connection, this.info.limits?.maxDirPage, options);
  }

  /** Downloads `name` to `destination` (a file path), verified before it appears there. */
  async get(name: string, destination: string, progress?: Progress): Promise<Transferred> {
    refuseBadName(name);
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
    refuseBadName(name);
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
    for (const name of [from, to]) refuseBadName(name);
    return this.fileAnswer(
      await this.connection.request({ type: 'rename', name: from, to }, { action: ACTION.rename }),
      to,
    );
  }

  /** Deletes any file as the server's operator, proven by `key` (the server's operator key). */
  async operatorDelete(name: string, key: string): Promise<FileChange> {
    refuseBadName(name);
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

/** A file deleted or renamed (under its new name), and when the server did it. */
export interface FileChange extends FileEntry {
  at: number;
}

/** A file sent or received, and the byte it resumed from (0 when it started afresh). */
export interface Transferred extends FileEntry {
  resumedFrom: number;
}
