/**
 * The server plugin interface (docs/plugins.md). Every request handler, the built-in ones
 * included, arrives through a ServerPlugin. Authorization and parameter checks happen in the core
 * dispatcher before a handler runs, never in the handler (ProFTPD mod_copy's CVE-2015-3306).
 */
import type { Header } from '../protocol/constants.js';
import type { Schema } from '../protocol/schema.js';
import type { HandleRegistry } from './handles.js';
import type { Logger } from './logger.js';
import type { Storage } from './storage/storage.js';

/** The version of this interface; a plugin names the one it was written for. */
export const PLUGIN_API_VERSION = 1;

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
  /** Most files stored in all, operator's included; 0 for no limit. */
  maxFiles: number;
  /** Most files one handle may own; 0 for no limit. */
  maxFilesPerHandle: number;
  /** Most connections acting as one handle; a new one sheds the oldest idle. 0 for no limit. */
  maxConnectionsPerHandle: number;
  /** Most connections from one IP address at once; more are told the server is busy. 0: none. */
  maxConnectionsPerAddress: number;
  /** Most bytes of events waiting to be written to one connection; more are dropped. */
  maxQueuedEventBytes: number;
  /** Most bytes of events waiting to be written to all connections together. */
  maxTotalQueuedEventBytes: number;
}

/** What the server offers every plugin and handler. */
export interface ServerServices {
  /** This server's lasting id (32 hex digits), sent in the hello answer. */
  readonly serverId: string;
  readonly storage: Storage;
  readonly handles: HandleRegistry;
  readonly log: Logger;
  readonly limits: Readonly<Limits>;
  /** Request types served, for the hello answer. */
  types(): string[];
  /** Request types that may carry a body of their own, for the hello answer. */
  bodyTypes(): string[];
  /** Sends an event frame to every registered connection but `except`. */
  broadcast(event: Record<string, unknown> & { event: string }, except?: ConnectionInfo): void;
  /** Sends an event frame to every connection acting as `handle`; resolves with how many. */
  sendTo(handle: string, event: Record<string, unknown> & { event: string }): number;
  /**
   * An error to throw from a handler or hook: the client receives `code` (by convention
   * `E_<PLUGIN>_<WHAT>`) and prints `Error: <message>`. Built-in codes keep their own message.
   */
  fail(code: string, message: string, details?: Record<string, string | number>): Error;
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

export interface ConnectionInfo {
  readonly id: number;
  readonly remote: string;
  /** The handle this connection acts as, once registered or logged in. */
  handle: string | undefined;
  /** Whether the hello exchange happened. */
  greeted: boolean;
  /** Closes the connection once the current request is answered. */
  end(): void;
}

/** Everything a handler may touch while it serves one request. */
export interface RequestContext {
  readonly connection: ConnectionInfo;
  readonly server: ServerServices;
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
  receive(type: string, schema: Schema): Promise<{ header: Header; body: AsyncIterable<Buffer> }>;
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

export interface Handler {
  /** The request's fields besides type, id and body; checked before `run`. */
  params: Schema;
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
  /** Serves one request. Throw a FexError to answer with its code; anything else is E_INTERNAL. */
  run(ctx: RequestContext, request: Header): Promise<void>;
}

export interface ServerPlugin {
  /** Shown in logs and in start-up errors. */
  name: string;
  /** The PLUGIN_API_VERSION the plugin was written for. */
  apiVersion: number;
  /** Request type -> handler. A type may be served by one plugin only. */
  handlers?: Record<string, Handler>;
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
