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
}

/** What the server offers every plugin and handler. */
export interface ServerServices {
  readonly storage: Storage;
  readonly handles: HandleRegistry;
  readonly log: Logger;
  readonly limits: Readonly<Limits>;
  /** Request types served, for the hello answer. */
  types(): string[];
  /** Sends an event frame to every registered connection but `except`. */
  broadcast(event: Record<string, unknown> & { event: string }, except?: ConnectionInfo): void;
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
}

export interface Handler {
  /** The request's fields besides type, id and body; checked before `run`. */
  params: Schema;
  /** Whether the connection must have a handle first. Defaults to 'registered'. */
  auth?: 'none' | 'registered';
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
  /** Runs once at start-up, before the server listens. */
  setup?(server: ServerServices): void | Promise<void>;
}
