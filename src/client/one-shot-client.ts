/**
 * The client of one-shot commands: each command opens a connection, authenticates with the
 * remembered credential (or claims the handle if this client has none for it yet), does its
 * one thing, and says goodbye.
 */
import { stat } from 'node:fs/promises';
import { FexError } from '../protocol/errors.js';
import { handleProblem } from '../protocol/names.js';
import { formatServer, joinAddress, parseServer } from './address.js';
import { claimHandle, loginHandle } from './claim-handle.js';
import type { Client, ClientOptions, StoreResult } from './client.js';
import { Session, type Progress } from './session.js';
import { ClientState } from './state.js';

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
    if (!server) throw new FexError('NOT_CONNECTED', { action: 'Disconnection' });
    state.server = undefined;
    await state.save();
    return { server };
  }

  async register(handle: string) {
    // Registering again from the client that holds the credential is a login.
    return this.becomeDefault(handle, 'Registration', claimHandle);
  }

  /**
   * Checks that the credential this account holds for the handle is good on the server, and
   * makes the handle the server's default for later commands. Never registers.
   */
  async login(handle: string) {
    return this.becomeDefault(handle, 'Login', loginHandle, async (state, server) => {
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
      { handle, claim },
    );
  }

  async store(path: string, progress?: Progress): Promise<StoreResult> {
    const server = await this.server('Upload');
    // A missing local file is reported before any connection is made.
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) throw new FexError('LOCAL_NOT_FOUND');
    return this.withSession(server, 'Upload', async (session) => ({
      ...(await session.store(path, progress)),
      handle: session.handle as string,
    }));
  }

  async dir() {
    const server = await this.server('Directory listing');
    return this.withSession(server, 'Directory listing', (session) => session.dir(), {
      pipelined: true,
    });
  }

  async call(type: string, fields: Record<string, unknown>, action: string) {
    const server = await this.server(action);
    return this.withSession(server, action, (session) => session.call(type, fields, action));
  }

  async get(name: string, output: string | undefined, progress?: Progress) {
    const server = await this.server('Download');
    const path = await (await import('./download.js')).destinationFor(name, output);
    return this.withSession(server, 'Download', async (session) => ({
      ...(await session.get(name, path, progress)),
      path,
    }));
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
   * server that issued it.
   */
  private async withSession<T>(
    server: string,
    action: string,
    task: (session: Session) => Promise<T>,
    {
      handle = this.options.handle,
      pipelined = false,
      claim = claimHandle,
    }: {
      handle?: string;
      pipelined?: boolean;
      /** How the session comes to act as the handle: login, or register if none is held. */
      claim?: Claim;
    } = {},
  ): Promise<T> {
    const state = await this.state();
    const session = await Session.open(parseServer(server));
    try {
      handle ??= state.defaultHandle(session.server);
      if (handle === undefined) throw new FexError('NO_HANDLE', { action });
      // A handle this client never claimed is claimed now, so scripts need no separate step.
      const claimed = claim(session, state, handle);
      if (!pipelined) {
        await claimed;
        return await task(session);
      }
      const result = task(session);
      void session.leave();
      await claimed.catch((error: unknown) => {
        result.catch(() => undefined);
        throw error;
      });
      return await result;
    } finally {
      await session.leave();
    }
  }
}
