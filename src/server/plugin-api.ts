/**
 * The server plugin interface (docs/plugins.md). Every request handler, the built-in ones
 * included, arrives through a ServerPlugin. Authorization and parameter checks happen in the core
 * dispatcher before a handler runs, never in the handler (ProFTPD mod_copy's CVE-2015-3306).
 */
import type { FileEntry, Header } from '../protocol/constants.js';
import type { ErrorCode, PluginErrorCode } from '../shared/errors.js';
import type { RequestOf, Schema } from '../protocol/schema.js';
import type { Readable } from 'node:stream';
import type { FexError } from '../shared/errors.js';
import type { Logger } from './logger.js';

/**
 * The version of this interface; a plugin names the one it was written for. Version 2 narrowed
 * what a plugin may touch (read-only connection, handles and files; `ctx.identify`) and typed
 * requests and errors: docs/plugins.md, "Changes for plugin authors".
 */
export const PLUGIN_API_VERSION = 2;

export interface Limits {
  /** Largest file accepted, in bytes. */
  maxFileSize: number;
  /** Most connections served at once. */
  maxConnections: number;
  /** Seconds a connection may stay silent between requests before it is closed; 0 for never. */
  idleTimeout: number;
  /** Seconds without data in the middle of a message (a stalled transfer); 0 for never. */
  transferTimeout: number;
  /** Seconds from a header's first byte to its last (slowloris); 0 for never. */
  headerTimeout: number;
  /** Largest JSON header accepted, in bytes. */
  maxHeaderBytes: number;
  /** Longest file name accepted, in bytes of UTF-8 (at most 255, the rule of every end). */
  maxNameBytes: number;
  /** Longest handle accepted, in characters (at most 32). */
  maxHandleLength: number;
  /** Longest a file is kept, in seconds from its stored time; 0 for no limit. */
  maxAge: number;
  /** How long a file stored without an expiry is kept, in seconds; 0 for `maxAge` (or for ever). */
  defaultAge: number;
  /** Most files stored in all, operator's included; 0 for no limit. */
  maxFiles: number;
  /** Most files one handle may own; 0 for no limit. */
  maxFilesPerHandle: number;
  /** Most connections acting as one handle; a new one sheds the oldest idle. 0 for no limit. */
  maxConnectionsPerHandle: number;
  /** Most connections from one IP address at once; more are told the server is busy. 0: none. */
  maxConnectionsPerAddress: number;
  /**
   * Most bytes events waiting to be written to one connection may cost, each counted as its
   * frame plus EVENT_OVERHEAD_BYTES (src/protocol/frame-writer.ts); more are dropped.
   */
  maxQueuedEventBytes: number;
  /** The same, for all connections together. */
  maxTotalQueuedEventBytes: number;
}

/** The stored files, read-only: what a plugin may see of the storage. */
/** Which part of the listing `FilesView.list()` returns: one page of it, a prefix, or all of it. */
export interface ListOptions {
  /** Only names after this one (code point order): the last name of the page before. */
  after?: string;
  /** Only names that start with this. */
  prefix?: string;
  /** At most this many entries. */
  limit?: number;
}

export interface FilesView {
  /**
   * The visible files, ordered by name (code point order): all of them, or the page `options`
   * asks for, which costs in proportion to the page, not to the number of files.
   */
  list(options?: ListOptions): Promise<FileEntry[]>;
  /**
   * One file from byte `start` (default 0) to its end, a consistent snapshot even if the file is
   * replaced meanwhile. Rejects with E_NOT_FOUND. Destroy the stream if you stop reading early.
   */
  read(name: string, start?: number): Promise<{ file: FileEntry; stream: Readable }>;
}

/** The registered handles, read-only. */
export interface HandlesView {
  /**
   * Whether `handle` is registered (without regard to case): on this server, or with
   * `fex serve --state`, on any server sharing its state. Rejects with E_UNAVAILABLE while that
   * state cannot be reached.
   */
  has(handle: string): Promise<boolean>;
}

/** An event frame: `{ event: '<name>', ...fields }`; fex's shell prints its `line`. */
export type EventFields = Record<string, unknown> & { event: string };

/** Where a front door's visitor comes from: counted and logged as a TCP client's address is. */
export interface FrontDoorOptions {
  /** The visitor's IP address: `maxConnectionsPerAddress` counts connections per address. */
  address: string;
  /** The visitor's port, for the log. */
  port?: number;
  /** The name this front door says in `hello` (`client`), e.g. "fex-web". */
  client?: string;
}

/** A body sent with a frame: exactly `size` bytes, streamed with backpressure. */
export interface FrameBody {
  size: number;
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>;
}

/** One answer frame to a request made through a front door. */
export interface Answer {
  /** `ok` or `continue`, with the handler's fields (docs/protocol.md). */
  readonly header: Header;
  /**
   * The answer's body (`get`'s file, `dir`'s lines), streamed: read it to its end or destroy it;
   * the connection reads nothing else until then.
   */
  readonly body: Readable | undefined;
}

/**
 * A connection opened inside the server by a plugin that is a front door of its own (a web page,
 * a bridge): served by the same code as a TCP client, so its requests pass the handler table,
 * the core's checks, every plugin's hooks, the name rules, ownership, limits and timeouts. It
 * counts against `maxConnections` and `maxConnectionsPerAddress`, and is closed by the idle and
 * transfer timeouts as a socket is.
 */
export interface InProcessConnection {
  /** The remote the server's log names for this connection. */
  readonly remote: string;
  /** The handle this connection acts as, after `register` or `login` answered ok. */
  readonly handle: string | undefined;
  /** Whether the connection has ended (closed, timed out, shed, or the server stopped). */
  readonly closed: boolean;
  /**
   * Sends a request and resolves with its first answer (`ok`, or `continue` in a `store` in
   * steps). A refusal rejects with a `FexError` whose `message` is the line the fex CLI prints
   * after `Error: `. Requests may be pipelined; answers come in request order.
   */
  request(
    type: string,
    fields?: Record<string, unknown>,
    body?: FrameBody,
  ): Promise<Answer & { id: number }>;
  /** Sends a later frame of request `id` (a `store`'s `data` and `commit`). */
  send(id: number, type: string, fields?: Record<string, unknown>, body?: FrameBody): Promise<void>;
  /** The next answer to request `id`, after a `continue`. */
  next(id: number): Promise<Answer>;
  /** Calls `listener` with every event frame (uploads, plugins' events); returns an unsubscribe. */
  onEvent(listener: (event: EventFields) => void): () => void;
  /** Calls `listener` once when the connection ends, with why (`closing` code or lost). */
  onClose(listener: (reason: FexError) => void): () => void;
  /** Says `leave` and closes. */
  close(): Promise<void>;
}

/** What the server offers every plugin and handler. */
export interface ServerServices {
  /** This server's lasting id (32 hex digits), sent in the hello answer. */
  readonly serverId: string;
  readonly files: FilesView;
  readonly handles: HandlesView;
  readonly log: Logger;
  readonly limits: Readonly<Limits>;
  /**
   * The certificate chain and key (PEM) the server serves TLS with (`--tls-cert`, `--tls-key`),
   * so a front door on a port of its own can serve HTTPS with them; undefined without TLS.
   */
  readonly tls: Readonly<{ cert: string | Buffer; key: string | Buffer }> | undefined;
  /** Request types served, for the hello answer. */
  types(): string[];
  /** Request types that may carry a body of their own, for the hello answer. */
  bodyTypes(): string[];
  /**
   * Sends an event frame to every registered connection but `except`, on this server and, with
   * `fex serve --state`, on every server sharing its state (docs/plugins.md, "Events").
   */
  broadcast(event: EventFields, except?: ConnectionInfo): void;
  /**
   * Sends an event frame to every connection acting as `handle`, on whichever server it is;
   * returns how many: those here that took it, plus those the other servers had as last heard
   * (0: the handle is connected nowhere, as far as this server knows).
   */
  sendTo(handle: string, event: EventFields): number;
  /**
   * Opens an in-process connection, greeted (`hello` answered): a front door that goes through
   * everything a TCP client does. Rejects with E_BUSY when the connection limits are reached.
   */
  connect(options: FrontDoorOptions): Promise<InProcessConnection>;
  /**
   * An error to throw from a handler or hook: the client receives `code` and prints
   * `Error: <message>`, these very words. A built-in code keeps its exit status; a plugin's own
   * (`E_<PLUGIN>_<WHAT>`) exits with status 10.
   */
  fail(
    code: ErrorCode | PluginErrorCode,
    message: string,
    details?: Record<string, string | number>,
  ): Error;
}

/** How a request ended, for onResponse hooks (audit logs, metrics). */
export interface Outcome {
  ok: boolean;
  /** The error code the client received, when not ok. */
  code?: string;
  /** Bytes received and sent on the connection while the request was served, headers included. */
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
}

/** Named points of a request's life where a plugin may act (docs/plugins.md). */
export interface Hooks {
  /**
   * After the core's checks (hello, known type, valid fields, registered handle), before the
   * handler. Throw (e.g. `server.fail(...)`) to refuse the request before any byte is written.
   */
  onRequest?(ctx: RequestContext, request: Header): void | Promise<void>;
  /** After the request was answered, whatever the outcome. Errors here are logged, not sent. */
  onResponse?(ctx: RequestContext, request: Header, outcome: Outcome): void | Promise<void>;
}

/** Who is asking, read-only: only `ctx.identify()` changes who a connection is. */
export interface ConnectionInfo {
  readonly id: number;
  readonly remote: string;
  /** The handle this connection acts as, once registered or logged in. */
  readonly handle: string | undefined;
  /** Whether the handshake (`hello`) happened. */
  readonly greeted: boolean;
  /** Closes the connection once the current request is answered. */
  end(): void;
}

/**
 * How a connection comes to act as a handle, checked by the core: claim a new handle (the answer
 * holds its credential, shown once), or prove an earlier claim with its credential.
 */
export type Identity = { register: string } | { handle: string; credential: string };

/** Everything a handler may touch while it serves one request. */
export interface RequestContext<Services extends ServerServices = ServerServices> {
  readonly connection: ConnectionInfo;
  readonly server: Services;
  /**
   * The one way to change who this connection is. The core checks it: a connection acting as a
   * handle cannot become another (E_ALREADY_REGISTERED); a new handle must follow the rules
   * (E_BAD_HANDLE, E_HANDLE_TOO_LONG) and be free (E_HANDLE_TAKEN); a credential must be the
   * handle's own (E_BAD_CREDENTIAL). Resolves with the handle as registered, and the credential
   * of a new one.
   */
  identify(identity: Identity): Promise<{ handle: string; credential?: string }>;
  /** Ends the request with success; `fields` are copied into the answer. */
  reply(fields?: Record<string, unknown>): Promise<void>;
  /** Ends the request with success and a body of exactly `size` bytes. */
  replyWithBody(
    fields: Record<string, unknown>,
    size: number,
    body: AsyncIterable<Buffer> | Iterable<Buffer>,
  ): Promise<void>;
  /** Tells the client to go on (a `continue` frame), e.g. to send the body of an upload. */
  proceed(fields?: Record<string, unknown>): Promise<void>;
  /**
   * Reads the client's next frame for this request, which must be of `type` and match `schema`.
   * Its body, if any, must be consumed (or is skipped) before the next receive.
   */
  receive<const S extends Schema>(
    type: string,
    schema: S,
  ): Promise<{ header: RequestOf<S>; body: AsyncIterable<Buffer> }>;
  /**
   * The request frame's own body (empty when it has none). Only a handler with `body: true`
   * receives a request with a body; what it leaves unread is skipped.
   */
  body(): AsyncIterable<Buffer>;
  /**
   * Says the handler will read nothing more from the connection, so the next request may be read
   * while this one finishes (e.g. flushes a file to disk). Answers still go out in request order.
   * The next request runs at once only if its handler has `overlap: true`; any other waits until
   * every detached request has been answered, so it sees their effects.
   */
  detach(): void;
}

export interface Handler<
  S extends Schema = Schema,
  Services extends ServerServices = ServerServices,
> {
  /** The request's fields besides type, id and body; checked before `run`. */
  params: S;
  /** Whether the connection must have a handle first. Defaults to 'registered'. */
  auth?: 'none' | 'registered';
  /**
   * Whether the request may carry a body of its own (a `store` of a small file does). Without
   * this, a request with a body is refused with E_BAD_REQUEST and its body skipped.
   */
  body?: boolean;
  /**
   * Whether this handler may start while earlier requests of the same connection that called
   * `detach()` are still finishing. Their answers still go out first.
   */
  overlap?: boolean;
  /**
   * The request that opens a connection (`hello`): the only kind a connection may send first,
   * and once one is answered without error the connection is greeted. Default false.
   */
  handshake?: boolean;
  /**
   * Serves one request, whose fields passed `params` (typed from it). Throw a FexError, or
   * `ctx.server.fail(...)`, to answer with its code; anything else is E_INTERNAL.
   */
  run(ctx: RequestContext<Services>, request: RequestOf<S>): Promise<void>;
}

export interface ServerPlugin<H extends Record<string, Schema> = Record<string, Schema>> {
  /** Shown in logs and in start-up errors. */
  name: string;
  /** The PLUGIN_API_VERSION the plugin was written for. */
  apiVersion: number;
  /** Request type -> handler. A type may be served by one plugin only. */
  handlers?: { [Type in keyof H]: Handler<H[Type]> };
  /** Named points of every request's life this plugin acts at, in the order plugins load. */
  hooks?: Hooks;
  /** Runs once at start-up, before the server listens. */
  setup?(server: ServerServices): void | Promise<void>;
  /** Runs once at shutdown, after the last connection closed (flush files, stop timers). */
  teardown?(): void | Promise<void>;
}

/**
 * What a plugin module exports (default export, or `plugin`): the plugin itself, or a function
 * of the options given in the server's config file that returns it.
 */
export type PluginExport =
  ServerPlugin | ((options: Record<string, unknown>) => ServerPlugin | Promise<ServerPlugin>);

/**
 * A plugin, with each handler's request typed from its `params`. Changes nothing at run time: it
 * is there for the compiler (and for `// @ts-check` JavaScript).
 */
export function definePlugin<const H extends Record<string, Schema>>(
  plugin: ServerPlugin<H>,
): ServerPlugin<H> {
  return plugin;
}

/** One handler, its request typed from its `params`, for a plugin that keeps them apart. */
export function defineHandler<const S extends Schema>(handler: Handler<S>): Handler<S> {
  return handler;
}
