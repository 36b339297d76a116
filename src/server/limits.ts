/** The server's default limits: one place, read by `fex serve`'s flags and by FexServer. */
import { MAX_HEADER_BYTES } from '../protocol/constants.js';
import { MAX_HANDLE_LENGTH, MAX_NAME_BYTES } from '../protocol/names.js';
import type { Limits } from './plugin-api.js';

export const DEFAULT_LIMITS: Readonly<Limits> = {
  maxFileSize: 16 * 1024 ** 3,
  maxConnections: 1024,
  idleTimeout: 900,
  transferTimeout: 60,
  headerTimeout: 30,
  maxHeaderBytes: MAX_HEADER_BYTES,
  maxNameBytes: MAX_NAME_BYTES,
  maxHandleLength: MAX_HANDLE_LENGTH,
  maxAge: 0,
  defaultAge: 0,
  maxFiles: 1_000_000,
  maxFilesPerHandle: 250_000,
  maxConnectionsPerHandle: 32,
  maxConnectionsPerAddress: 0,
  maxQueuedEventBytes: 256 * 1024,
  maxTotalQueuedEventBytes: 32 * 1024 ** 2,
};
