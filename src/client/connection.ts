/**
 * The client end of one TCP connection: sends requests, matches answers to them by id, streams
 * bodies to whoever asked, and passes events (another user's upload, the server closing) on to
 * listeners. One read loop owns the socket's input, so an event can arrive at any time.
 */
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { connect, isIP, type Socket } from 'node:net';
import { answerProblem } from '../protocol/answers.js';
import type { Header } from '../protocol/constants.js';
import {
  FexError,
  hasCode,
  isErrorCode,
  localIoError,
  type ErrorDetails,
} from '../shared/errors.js';
import { FrameReader, isStreamFatal } from '../protocol/frame.js';
import { printable } from './messages.js';
import { SocketReads } from './socket-reads.js';
import { Watchdog } from './watchdog.js';
import { FrameWriter } from '../protocol/frame-writer.js';
import type { ServerAddress } from '../shared/address.js';

export interface RequestHandlers {
  /** Words for errors that name the action, e.g. "Upload" in "Upload failed. ...". */
  action?: string;
  /** Called on a `continue` frame; runs beside the read loop (e.g. to send an upload's body). */
  onContinue?(header: Header): Promise<void>;
  /** Called with an answer's body; the read loop waits for it, which is the backpressure. */
  onBody?(header: Header, body: AsyncIterable<Buffer>): Promise<void>;
}

interface Pending extends RequestHandlers {
  /** The request's type, which says what its answers must hold. */
  type: string;
  resolve(header: Header): void;
  reject(error: Error): void;
}

const CONNECT_TIMEOUT_MS = 10_000;

/** FEX_TIMEOUT: seconds the client waits on a silent server before giving up (0: for ever). */
function answerTimeoutMs(): number {
  const seconds = Number(process.env.FEX_TIMEOUT ?? 60);
  // Node's timers hold at most 2^31-1 ms (about 24 days); longer would fire at once.
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds * 1000, 2 ** 31 - 1) : 60_000;
}

async function readTrusted(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw localIoError('read', path, error);
  }
}

/**
 * A time-out raised by this client's own reader or writer is the server's silence, not the
 * server closing the connection (which is what E_TIMEOUT in a frame from the server means).
 */
function clientSide(error: FexError): FexError;
function clientSide(error: unknown): Error;
function clientSide(error: unknown): Error {
  if (hasCode(error, 'E_TIMEOUT'))
    return new FexError('SERVER_SILENT', { seconds: answerTimeoutMs() / 1000 });
  return error as Error;
}

export class ClientConnection extends EventEmitter {
  readonly writer: FrameWriter;
  private readonly reader: FrameReader;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Why the connection ended, once it has. */
  private endedWith: FexError | undefined;
  private readonly watchdog: Watchdog;
  /** True while an answer's body is being received (its request is no longer pending). */
  private receiving = false;
  /** Set when the client itself gave up on a silent server. */
  private silence: FexError | undefined;

  private constructor(
    private readonly socket: Socket,
    reads?: SocketReads,
  ) {
    super();
    const timeoutMs = answerTimeoutMs();
    reads?.attach(socket);
    // Mid-message stalls and a server that stops reading end the connection too.
    this.reader = new FrameReader(reads ?? socket, {
      stallTimeoutMs: timeoutMs,
      headerTimeoutMs: timeoutMs,
    });
    this.writer = new FrameWriter(socket, { drainTimeoutMs: timeoutMs });
    this.watchdog = new Watchdog(
      timeoutMs,
      () => this.pending.size > 0 || this.receiving,
      () => {
        this.silence = new FexError('SERVER_SILENT', { seconds: timeoutMs / 1000 });
        socket.destroy();
      },
    );
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    void this.readLoop();
  }

  static async open(address: ServerAddress): Promise<ClientConnection> {
    const options = { host: address.host, port: address.port };
    // FEX_TLS_CA names a PEM file of certificates to trust besides the system's (a private CA).
    const ca =
      address.tls && process.env.FEX_TLS_CA ? await readTrusted(process.env.FEX_TLS_CA) : undefined;
    // Loaded only for fexs://: it costs every plain one-shot command start-up time otherwise.
    const tls = address.tls ? await import('node:tls') : undefined;
    const rootCertificates = tls?.rootCertificates ?? [];
    // TLS sockets decrypt into buffers of their own: large reads are for plain TCP.
    const reads = tls ? undefined : new SocketReads();
    return new Promise((resolve, reject) => {
      const socket = tls
        ? tls.connect({
            ...options,
            ...(ca ? { ca: [...rootCertificates, ca] } : {}),
            servername: isIP(address.host) ? undefined : address.host,
          })
        : connect({ ...options, onread: reads?.onread });
      const fail = (error?: Error) => {
        socket.destroy();
        const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
        // A certificate problem is not a wrong address: say which it is.
        if (address.tls && /CERT|SELF_SIGNED|ERR_TLS|ERR_SSL|EPROTO/.test(code))
          reject(new FexError('TLS_FAILED', { reason: error?.message ?? code }));
        else reject(new FexError('CONNECT_FAILED'));
      };
      socket.setTimeout(CONNECT_TIMEOUT_MS, () => fail());
      socket.once('error', fail);
      socket.once(address.tls ? 'secureConnect' : 'connect', () => {
        socket.setTimeout(0);
        socket.off('error', fail);
        resolve(new ClientConnection(socket, reads));
      });
    });
  }

  get closed(): boolean {
    return this.endedWith !== undefined;
  }

  /**
   * Sends a request (with `body`, if given, as the frame's body) and resolves with its `ok`
   * answer, or rejects with its error. Requests may be sent before earlier ones are answered.
   */
  request(
    fields: Omit<Header, 'id'>,
    handlers: RequestHandlers = {},
    body?: Buffer,
  ): Promise<Header> {
    if (this.endedWith) return Promise.reject(this.lost(handlers.action));
    const id = this.nextId++;
    this.watchdog.activity();
    return new Promise<Header>((resolve, reject) => {
      this.pending.set(id, { ...handlers, type: String(fields.type), resolve, reject });
      const header = { ...fields, id } as Header;
      const sent = body
        ? this.writer.sendWithBody(header, body.length, [body])
        : this.writer.send(header);
      sent.catch((error: unknown) => {
        this.pending.delete(id);
        reject(error instanceof FexError ? this.lost(handlers.action) : error);
      });
    });
  }

  /** Closes the connection; answers still awaited fail with CONNECTION_LOST. */
  close(): void {
    this.socket.end();
    this.socket.destroySoon?.();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private async readLoop(): Promise<void> {
    let ending: FexError = new FexError('CONNECTION_LOST', { during: '' });
    try {
      for (;;) {
        const header = await this.reader.next();
        if (!header) break;
        // Events are not answers: a server chattering events still counts as silent.
        if (header.type !== 'event') this.watchdog.activity();
        if (header.type === 'event') {
          if (header.event === 'closing' && typeof header.code === 'string')
            ending = this.toError(header);
          this.emit('event', header);
          continue;
        }
        if (header.id === undefined) {
          // An error for the whole connection (server full, malformed frame): nothing follows.
          if (header.type === 'error') ending = this.toError(header);
          break;
        }
        await this.answer(header.id, header);
      }
    } catch (error) {
      if (error instanceof FexError && error.code !== 'CONNECTION_LOST') ending = clientSide(error);
    }
    this.watchdog.stop();
    this.endedWith = this.silence ?? ending;
    this.socket.destroy();
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      pending.reject(this.lost(pending.action));
    }
    this.emit('close', ending);
  }

  private async answer(id: number, header: Header): Promise<void> {
    const pending = this.pending.get(id);
    if (!pending) throw new FexError('E_BAD_FRAME', { reason: `answer to unknown request ${id}` });
    // Checked before anything reads a field: a server out of the protocol is not followed.
    const problem = answerProblem(pending.type, header);
    if (problem) throw new FexError('E_BAD_FRAME', { reason: problem });
    if (header.type === 'continue') {
      if (!pending.onContinue) throw new FexError('E_BAD_FRAME', { reason: 'unexpected continue' });
      const onContinue = pending.onContinue;
      this.watchdog
        .sendingDuring(() => onContinue(header))
        .catch((error: unknown) => {
          this.pending.delete(id);
          pending.reject(clientSide(error));
          // The upload could not finish its frame; the stream is out of step, so hang up.
          this.socket.destroy();
        });
      return;
    }
    this.pending.delete(id);
    if (header.type === 'error') return pending.reject(this.toError(header, pending.action));
    if (header.type !== 'ok')
      throw new FexError('E_BAD_FRAME', { reason: `unexpected "${header.type}"` });
    if (header.body !== undefined) {
      if (!pending.onBody) {
        await this.reader.skipBody();
        return pending.reject(new FexError('E_BAD_FRAME', { reason: 'unexpected body' }));
      }
      try {
        this.receiving = true;
        await pending.onBody(header, this.watchdog.watch(this.reader.body()));
      } catch (error) {
        if (hasCode(error, 'CONNECTION_LOST')) {
          pending.reject(this.lost(pending.action));
          throw error;
        }
        pending.reject(clientSide(error));
        // A server out of step (or lying about sizes) is not read any further.
        if (isStreamFatal(error)) throw error;
        return;
      } finally {
        this.receiving = false;
      }
    }
    pending.resolve(header);
  }

  /**
   * The server's error as this client will print it. Every word of it came from the network, so
   * nothing that could steer a terminal (escape sequences, direction overrides) gets through.
   */
  private toError(header: Header, action?: string): FexError {
    const clean = (value: unknown) =>
      typeof value === 'string' ? printable(value).slice(0, 1000) : undefined;
    const details: ErrorDetails = {};
    if (typeof header.details === 'object' && header.details !== null)
      for (const [key, value] of Object.entries(header.details))
        details[key] = typeof value === 'number' ? value : clean(value);
    const code =
      typeof header.code === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(header.code)
        ? header.code
        : 'E_INTERNAL';
    const message = clean(header.message);
    // A code this client does not know (a plugin's) keeps the server's words, and so does a
    // built-in code the server marked as said in a handler's own words.
    if (!isErrorCode(code)) return FexError.of(code, details, message);
    if (header.custom === true && message !== undefined)
      return new FexError(code, details, message);
    return new FexError(code, { ...details, ...(action ? { action } : {}) });
  }

  private lost(action?: string): FexError {
    const reason = this.silence ?? this.endedWith;
    if (reason && reason.code !== 'CONNECTION_LOST') return reason;
    return new FexError('CONNECTION_LOST', {
      during: action ? ` (${action.toLowerCase()} did not finish)` : '',
    });
  }
}
