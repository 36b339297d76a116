/**
 * The client of one-shot commands: each command opens a connection, authenticates with the
 * remembered credential (or claims the handle if this client has none for it yet), does its
 * one thing, and says goodbye.
 */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { EXIT, FexError } from '../shared/errors.js';
import { handleProblem } from '../protocol/names.js';
import { formatServer, joinAddress, parseServer } from '../shared/address.js';
import { claimHandle, loginHandle } from './claim-handle.js';
import type { ChangeResult, Client, ClientOptions, StoreOptions, StoreResult } from './client.js';
import { Session, type DirOptions, type Progress } from './session.js';
import { ClientState } from './state.js';
import { ACTION } from './actions.js';

/** What a transfer cut by Ctrl-C tells its user: how it stands and how to go on. */
interface Interruption {
  name: string;
  /** The line under the error, read once the transfer has let go of its files. */
  hint(): Promise<string>;
}

/**
 * A claim the user did not type, refused: `fex dir --handle User1` from a client that does not
 * hold User1 must not leave the user wondering why a listing talks of registration.
 */
function implicitClaimRefused(error: unknown, action: string, handle: string, server: string) {
  if (!(error instanceof FexError) || error.code !== 'E_HANDLE_TAKEN') return error;
  return error.withHint(
    `${action} needs a handle: this client holds no credential for ${handle} on ${server}, so it tried to register ${handle}, which another client holds.`,
  );
}

const STORE_HINT =
  'Run the same command again to resume: the server keeps what it received of a file over 64 KiB for a day.';

/** How a session comes to act as a handle (claim-handle.ts). */
type Claim = (session: Session, state: ClientState, handle: string) => Promise<unknown>;

export class OneShotClient implements Client {
  private statePromise: Promise<ClientState> | undefined;

  constructor(private readonly options: ClientOptions) {}

  async join(host: string, port: string) {
    const address = joinAddress(host, port);
    const session = await Session.open(address);
    await session.leave();
    const state = await this.state();
    state.server = formatServer(address);
    await state.save();
    return { server: state.server };
  }

  async leave() {
    const state = await this.state();
    const server = state.server;
    if (!server) throw new FexError('NOT_CONNECTED', { action: ACTION.leave });
    state.server = undefined;
    await state.save();
    return { server };
  }

  async register(handle: string) {
    // Registering again from the client that holds the credential is a login.
    return this.becomeDefault(handle, ACTION.register, claimHandle);
  }

  /**
   * Checks that the credential this account holds for the handle is good on the server, and
   * makes the handle the server's default for later commands. Never registers.
   */
  async login(handle: string) {
    return this.becomeDefault(handle, ACTION.login, loginHandle, async (state, server) => {
      // Said before connecting: without a credential there is nothing to send.
      if (!state.credential(server, handle))
        throw new FexError('NO_CREDENTIAL', { handle, server });
    });
  }

  /** Acts as `handle` the way `claim` says, then makes it the server's default handle. */
  private async becomeDefault(
    handle: string,
    action: string,
    claim: Claim,
    precheck?: (state: ClientState, server: string) => Promise<void>,
  ) {
    const server = await this.server(action);
    if (handleProblem(handle)) throw new FexError('E_BAD_HANDLE', { handle });
    const state = await this.state();
    await precheck?.(state, server);
    return this.withSession(
      server,
      action,
      async (session) => {
        state.setDefaultHandle(session.server, session.handle as string);
        await state.save();
        return { handle: session.handle as string, server };
      },
      { handle, claim, typed: true },
    );
  }

  async store(path: string, progress?: Progress, options: StoreOptions = {}): Promise<StoreResult> {
    const server = await this.server(ACTION.store);
    // A missing local file is reported before any connection is made.
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) throw new FexError('LOCAL_NOT_FOUND');
    const interruption = { name: basename(path), hint: async () => STORE_HINT };
    return this.withSession(
      server,
      ACTION.store,
      async (session) => ({
        ...(await session.store(path, progress, options.expires)),
        handle: session.handle as string,
      }),
      { interruption },
    );
  }

  async delete(name: string): Promise<ChangeResult> {
    const server = await this.server(ACTION.delete);
    return this.withSession(server, ACTION.delete, async (session) => ({
      ...(await session.delete(name)),
      handle: session.handle as string,
    }));
  }

  async rename(from: string, to: string): Promise<ChangeResult> {
    const server = await this.server(ACTION.rename);
    return this.withSession(server, ACTION.rename, async (session) => ({
      ...(await session.rename(from, to)),
      from,
      handle: session.handle as string,
    }));
  }

  async dir(options?: DirOptions) {
    const server = await this.server(ACTION.dir);
    // A listing of many pages asks again after the first answer: the goodbye waits for the last.
    return this.withSession(server, ACTION.dir, (session) => session.dir(options), {
      pipelined: 'behind login',
    });
  }

  async call(type: string, fields: Record<string, unknown>, action: string) {
    const server = await this.server(action);
    return this.withSession(server, action, (session) => session.call(type, fields, action));
  }

  async get(name: string, output: string | undefined, progress?: Progress) {
    const server = await this.server(ACTION.get);
    const path = await (await import('./download.js')).destinationFor(name, output);
    // Loaded when a download is cut short: the one thing it is for.
    const hint = async () =>
      (await import('./download-hint.js')).downloadHint(name, path, {
        again: 'run the same command again',
        bin: 'fex ',
      });
    const interruption = { name, hint };
    return this.withSession(
      server,
      ACTION.get,
      async (session) => ({ ...(await session.get(name, path, progress)), path }),
      { interruption },
    );
  }

  private state(): Promise<ClientState> {
    this.statePromise ??= ClientState.load(this.options.configDir);
    return this.statePromise;
  }

  /** --server, FEX_SERVER, or the server remembered by `fex join`, validated. */
  private async server(action: string): Promise<string> {
    const text = this.options.server ?? (await this.state()).server;
    if (!text) throw new FexError('NOT_CONNECTED', { action });
    return formatServer(parseServer(text));
  }

  /**
   * Opens an authenticated session, runs `task`, and always says goodbye. A `pipelined` task is
   * one request that reads nothing but its answer: it and the goodbye are sent right behind the
   * login, which saves two round trips. The server answers in order, so the task runs as the
   * handle once logged in, and is refused if the login is; the login's error is the one
   * reported. Nothing is sent before `hello` is answered, since the credential goes only to the
   * server that issued it. A task `behind login` is sent right behind the login too, but may send
   * more requests after its first answer, so the goodbye waits for it.
   */
  private async withSession<T>(
    server: string,
    action: string,
    task: (session: Session) => Promise<T>,
    {
      handle = this.options.handle,
      pipelined = false,
      interruption,
      typed = false,
      claim = claimHandle,
    }: SessionOptions = {},
  ): Promise<T> {
    const state = await this.state();
    const session = await Session.open(parseServer(server));
    // Ctrl-C in a transfer closes the connection, so that the transfer ends as one cut off does
    // (what arrived is kept for a resume) and says so; a second Ctrl-C ends at once.
    let interrupted = false;
    const onInterrupt = () => {
      if (interrupted) process.exit(EXIT.interrupted);
      interrupted = true;
      session.close();
    };
    if (interruption) process.on('SIGINT', onInterrupt);
    try {
      const as = handle ?? state.defaultHandle(session.server);
      if (as === undefined) throw new FexError('NO_HANDLE', { action });
      // A login, or the claim `register` asked for: its refusal speaks for itself.
      const expected = typed || state.credential(session.server, as) !== undefined;
      // A handle this client never claimed is claimed now, so scripts need no separate step.
      const claimed = claim(session, state, as).catch((error: unknown) => {
        throw expected ? error : implicitClaimRefused(error, action, as, session.server);
      });
      if (!pipelined) {
        await claimed;
        return await task(session);
      }
      const result = task(session);
      // Its failure may arrive while the claim still saves the credential: observed from now on
      // (else Node ends the process for an unhandled rejection), and reported below.
      result.catch(() => undefined);
      if (pipelined === true) void session.leave();
      await claimed;
      return await result;
    } catch (error) {
      if (!interrupted || !interruption) throw error;
      throw new FexError('INTERRUPTED', { action, name: interruption.name }).withHint(
        await interruption.hint(),
      );
    } finally {
      process.off('SIGINT', onInterrupt);
      await session.leave();
    }
  }
}

/** How withSession() opens its session and runs its task. */
interface SessionOptions {
  handle?: string;
  pipelined?: boolean | 'behind login';
  interruption?: Interruption;
  /** `register` or `login`: the user asked for the claim, so a refusal needs no explaining. */
  typed?: boolean;
  /** How the session comes to act as the handle: login, or register if none is held. */
  claim?: Claim;
}
