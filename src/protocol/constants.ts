/** Values both ends agree on. docs/protocol.md is the prose version of this file. */

export const PROTOCOL_VERSION = 1;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 12345;
/** Largest JSON header a peer accepts, in bytes. */
export const MAX_HEADER_BYTES = 64 * 1024;
/** Largest `dir` listing body a client accepts, in bytes. */
export const MAX_LISTING_BYTES = 64 * 1024 * 1024;
/** Most entries in one page of a `dir` listing (the `hello` answer's `limits.maxDirPage`). */
export const DIR_PAGE_ENTRIES = 1000;
/** A page of a `dir` listing ends once its body reaches this many bytes, whatever its count. */
export const DIR_PAGE_BYTES = 256 * 1024;
/**
 * Files up to this size are sent in the `store` request itself (when the server lists `store` in
 * `bodies`): read whole, hashed, and sent in one frame, so stores can be pipelined.
 */
export const STORE_BODY_MAX = 64 * 1024;
/** Size of the big-endian length prefix in front of every header. */
export const LENGTH_PREFIX_BYTES = 4;

/** The header of every frame: a JSON object with a type, and more fields by type. */
export interface Header {
  type: string;
  id?: number;
  /** Length of the raw body that follows the header, if any. */
  body?: number;
  [field: string]: unknown;
}

/** One entry of a `dir` listing. */
export interface FileEntry {
  name: string;
  size: number;
  owner: string | null;
  /** Stored time, milliseconds since the epoch. */
  time: number;
  sha256: string;
  /** When the file expires (vanishes as if deleted), milliseconds since the epoch; absent: never. */
  expires?: number;
}

/** The event every other registered connection receives when a file is stored. */
export interface UploadedEvent {
  type: 'event';
  event: 'uploaded';
  handle: string;
  name: string;
  size: number;
  time: number;
}

/** What the server says about itself in its answer to `hello`. */
export interface ServerInfo {
  version: number;
  /** A random id the server keeps for life: a client sends a credential only to its issuer. */
  serverId?: string;
  server: string;
  limits: {
    maxFileSize: number;
    maxHeaderBytes: number;
    maxNameBytes?: number;
    maxHandleLength?: number;
    /** Longest a file is kept, in seconds; 0 for no limit. Absent from older servers. */
    maxAge?: number;
    /** The age of a store that asks for none, in seconds; 0 for `maxAge` (or never). */
    defaultAge?: number;
    /** Most entries in one `dir` page; absent from servers that do not page listings. */
    maxDirPage?: number;
  };
  types: string[];
  /** Request types that may carry a body of their own (`store`); absent from older servers. */
  bodies?: string[];
}
