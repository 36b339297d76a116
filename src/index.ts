/** The public API for plugin authors and embedders. See docs/plugins.md and docs/storage.md. */
export { FexServer, type ServerOptions } from './server/server.js';
export { DEFAULT_LIMITS } from './server/limits.js';
export {
  PLUGIN_API_VERSION,
  type ServerPlugin,
  type Handler,
  type RequestContext,
  type ServerServices,
  type ConnectionInfo,
  type Limits,
} from './server/plugin-api.js';
export type { Storage, PendingPut, PutOptions, StoredFile } from './server/storage/storage.js';
export { LocalStorage } from './server/storage/local-storage.js';
export { FexError, ERROR_TABLE, EXIT, type ErrorCode } from './shared/errors.js';
export { nameProblem, handleProblem } from './protocol/names.js';
export { Session } from './client/session.js';
export type { Header, FileEntry } from './protocol/constants.js';
