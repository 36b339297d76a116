/**
 * The client of the interactive shell: ONE session, opened by /join and kept between lines until
 * /leave, so the shell stays registered and hears other users' uploads as they happen. The same
 * command classes run on it as on the one-shot client; only the lifetime of the session differs.
 */
import type { FileEntry, Header } from '../protocol/constants.js';
import { downloadHint } from './download-hint.js';
import { FexError } from '../shared/errors.js';
import { handleKey } from '../protocol/names.js';
import { fileEventLine } from './file-events.js';
import { joinAddress } from '../shared/address.js';
import { printable } from './messages.js';
import { loginHandle, loginWith, registerHandle } from './claim-handle.js';
import type { ChangeResult, Client, StoreOptions, StoreResult } from './client.js';
import { Session, type DirOptions, type Progress } from './session.js';
import { ClientState, type Held } from './state.js';
import { storeMany, type StoreOutcome } from './store-many.js';
import { ACTION } from './actions.js';

/** A handle on a server, without regard to the handle's case. */
const ownKey = (server: string, handle: string) => `${server} ${handleKey(handle)}`;

/** How long a listing fetched for completion is reused before asking the server again. */
const NAMES_TTL_MS = 10_000;

export interface ShellClientOptions {
  /** oclif's config dir, where credentials are remembered (shared with one-shot commands). */
  configDir: string;
  /** Whether transfers report progress (only in a terminal). */
  progress: boolean;
  /** Another user stored, deleted or renamed a file, or a file expired: the line to show. */
  onFileEvent(line: string): void;
  /** A plugin's event line (a message from another user, say), already made printable. */
  onNotice?(line: string): void;
  /** The session ended by itself (server gone, idle timeout, Ctrl-C). */
  onClose?(): void;
}

export class ShellClient implements Client {
  private session: Session | undefined;
  /** Why the session ended while no command was using it; the next command reports it. */
  private lost: FexError | undefined;
  /** The session a command is using right now, which Ctrl-C may cut. */
  private inFlight: Session | undefined;
  private cancelled = false;
  private names: { at: number; names: string[] } | undefined;
  /** The handles this shell claimed or logged in as, by ownKey(): its own to log in as again. */
  private readonly own = new Map<string, Held>();

  constructor(private readonly options: ShellClientOptions) {}

  /** Where the shell is, for its prompt. */
  get server(): string | undefined {
    return this.session?.server;
  }

  get handle(): string | undefined {
    return this.session?.handle;
  }

  async join(host: string, port: string) {
    if (this.session) throw new FexError('ALREADY_CONNECTED', { server: this.session.server });
    const address = joinAddress(host, port);
    // A loss nobody heard of yet is old news once the user connects again.
    this.lost = undefined;
    const session = await Session.open(address);
    session.on('event', (event: Header) => this.onEvent(session, event));
    session.on('close', (reason: FexError) => this.onClose(session, reason));
    // Closed before the listener above was there to hear it: never keep a dead session.
    if (session.closed) throw new FexError('CONNECTION_LOST', { during: '' });
    this.session = session;
    this.names = undefined;
    return { server: session.server };
  }

  async leave() {
    // In flight like any command, so Ctrl-C cuts a goodbye that a stalled server never answers.
    return this.use(ACTION.leave, false, async (session) => {
      this.forget();
      await session.leave();
      return { server: session.server };
    });
  }

  /**
   * Claims the handle as the course means: registered anew, so a handle anyone holds (another
   * terminal of this account included) is refused. Only a handle this shell itself claimed or
   * logged in as is logged in again (after /leave and /join, say).
   */
  async register(handle: string) {
    return this.use(ACTION.register, false, async (session) => {
      const key = ownKey(session.server, handle);
      const mine = this.own.get(key);
      if (mine) await loginWith(session, mine);
      else
        this.own.set(
          key,
          await registerHandle(session, await ClientState.load(this.options.configDir), handle),
        );
      return { handle: session.handle as string, server: session.server };
    });
  }

  /** Acts as a handle with the credential this account holds for it (`/login`). */
  async login(handle: string) {
    return this.use(ACTION.login, false, async (session) => {
      const state = await ClientState.load(this.options.configDir);
      this.own.set(ownKey(session.server, handle), await loginHandle(session, state, handle));
      return { handle: session.handle as string, server: session.server };
    });
  }

  async store(path: string, progress?: Progress, options: StoreOptions = {}): Promise<StoreResult> {
    return this.use(ACTION.store, true, async (session) => {
      const entry = await session.store(path, this.progress(progress), options.expires);
      this.names = undefined;
      return { ...entry, handle: session.handle as string };
    });
  }

  async delete(name: string): Promise<ChangeResult> {
    return this.use(ACTION.delete, true, async (session) => {
      const entry = await session.delete(name);
      this.names = undefined;
      return { ...entry, handle: session.handle as string };
    });
  }

  async rename(from: string, to: string): Promise<ChangeResult> {
    return this.use(ACTION.rename, true, async (session) => {
      const entry = await session.rename(from, to);
      this.names = undefined;
      return { ...entry, from, handle: session.handle as string };
    });
  }

  /**
   * Stores files in order on the session, pipelined (a run of `/store` lines from a pipe); `each`
   * hears every outcome in order, as the commands would have printed them one by one.
   */
  async storeMany(
    paths: readonly string[],
    each: (index: number, outcome: StoreOutcome, handle: string) => void,
  ): Promise<void> {
    return this.use(ACTION.store, true, async (session) => {
      this.names = undefined;
      await storeMany(session, paths, (index, outcome) =>
        each(index, outcome, session.handle as string),
      );
    });
  }

  async dir(options: DirOptions = {}): Promise<FileEntry[]> {
    return this.use(ACTION.dir, true, async (session) => {
      const kept: FileEntry[] = [];
      const names: string[] = [];
      await session.dir({
        ...options,
        onPage: (entries) => {
          names.push(...entries.map((e) => e.name));
          if (options.onPage) options.onPage(entries);
          else kept.push(...entries);
        },
      });
      // A whole listing also serves completion for a while.
      if (options.prefix === undefined && options.limit === undefined)
        this.names = { at: Date.now(), names };
      return kept;
    });
  }

  async call(type: string, fields: Record<string, unknown>, action: string) {
    return this.use(action, true, (session) => session.call(type, fields, action));
  }

  async get(name: string, output: string | undefined, progress?: Progress) {
    const path = await (await import('./download.js')).destinationFor(name, output);
    const words = { again: '/join, then the same /get', bin: '/' };
    return this.use(
      ACTION.get,
      true,
      async (session) => ({ ...(await session.get(name, path, this.progress(progress))), path }),
      () => downloadHint(name, path, words),
    );
  }

  /**
   * Cuts the transfer in flight (Ctrl-C). The protocol has no way to abort one request and keep
   * the connection in step, so the connection goes; the command reports CANCELLED.
   */
  cancel(): boolean {
    if (!this.inFlight) return false;
    this.cancelled = true;
    this.inFlight.close();
    return true;
  }

  /**
   * The server's file names, for completion: from a listing at most NAMES_TTL_MS old, else a new
   * one. Never while a command uses the session (a request between an upload's frames would put
   * the stream out of step), and never an error: completion just offers nothing.
   */
  async serverNames(): Promise<string[]> {
    const session = this.session;
    if (!session?.handle || this.inFlight) return [];
    if (this.names && Date.now() - this.names.at < NAMES_TTL_MS) return this.names.names;
    try {
      const names = (await session.dir()).map((f) => f.name);
      this.names = { at: Date.now(), names };
      return names;
    } catch {
      return [];
    }
  }

  /** Says goodbye, if joined; for the end of the shell. Never throws. */
  async close(): Promise<void> {
    const session = this.session;
    this.forget();
    await session?.leave();
  }

  /** The open session for `action`, or the error that says why there is none. */
  private current(action: string, needsHandle: boolean): Session {
    if (this.lost) {
      const lost = this.lost;
      this.lost = undefined;
      throw lost;
    }
    if (!this.session) throw new FexError('NOT_CONNECTED', { action });
    if (needsHandle && !this.session.handle) throw new FexError('E_NOT_REGISTERED', { action });
    return this.session;
  }

  /** Runs a command's work on the session, marked as in flight so Ctrl-C can cut it. */
  private async use<T>(
    action: string,
    needsHandle: boolean,
    task: (session: Session) => Promise<T>,
    /** After Ctrl-C: what was kept and how to go on. */
    cancelHint?: () => Promise<string>,
  ): Promise<T> {
    const session = this.current(action, needsHandle);
    this.inFlight = session;
    try {
      return await task(session);
    } catch (error) {
      if (this.cancelled)
        throw new FexError('CANCELLED', { action }).withHint(await cancelHint?.());
      throw error;
    } finally {
      this.inFlight = undefined;
      this.cancelled = false;
    }
  }

  private progress(progress: Progress | undefined): Progress | undefined {
    return this.options.progress ? progress : undefined;
  }

  private forget(): void {
    this.session = undefined;
    this.names = undefined;
  }

  private onEvent(session: Session, event: Header): void {
    if (session !== this.session || !session.handle) return;
    const fileEvent = fileEventLine(event);
    if (fileEvent) {
      if (fileEvent.line === undefined) return;
      this.names = undefined;
      this.options.onFileEvent(fileEvent.line);
      return;
    }
    // The server dropped events this shell did not read in time (docs/protocol.md): say so, since
    // the uploads and messages printed since are not the whole story.
    if (event.event === 'dropped' && typeof event.count === 'number') {
      const what = event.count === 1 ? '1 notice' : `${event.count} notices`;
      this.options.onNotice?.(
        `(${what} from the server went unread and were dropped; /dir shows the files as they are now)`,
      );
      return;
    }
    // A plugin's event shows its `line`, made safe to print (no escape sequences reach the tty).
    if (typeof event.line === 'string') this.options.onNotice?.(printable(event.line));
  }

  private onClose(session: Session, reason: FexError): void {
    if (session !== this.session) return;
    this.forget();
    // A command using the session reports the loss itself; otherwise the next one does.
    if (session !== this.inFlight) this.lost = reason;
    this.options.onClose?.();
  }
}
