/**
 * The plugin SDK: what a fex plugin author needs, and nothing else (docs/plugins.md). Its test
 * kit is `fex/testing`. The server, the client and the storage backends are not part of it.
 */
export {
  PLUGIN_API_VERSION,
  definePlugin,
  defineHandler,
  type ServerPlugin,
  type PluginExport,
  type Handler,
  type Hooks,
  type Outcome,
  type RequestContext,
  type ServerServices,
  type ConnectionInfo,
  type Identity,
  type FilesView,
  type HandlesView,
  type EventFields,
  type Limits,
  type ListOptions,
  type InProcessConnection,
  type FrontDoorOptions,
  type FrameBody,
  type Answer,
} from './server/plugin-api.js';
export type { Schema, FieldKind, RequestOf } from './protocol/schema.js';
export type { Header, FileEntry } from './protocol/constants.js';
export type { LogEvent, Logger } from './server/logger.js';
export {
  FexError,
  EXIT,
  type ErrorCode,
  type PluginErrorCode,
  type ErrorDetails,
  type ExitStatus,
} from './shared/errors.js';
export { nameProblem, handleProblem, MAX_NAME_BYTES, MAX_HANDLE_LENGTH } from './protocol/names.js';
export { parseSize } from './shared/sizes.js';
export { FexCommand } from './cli/base-command.js';
export { connectionFlags } from './cli/flags.js';
// Also declares `fex:call` in oclif's Hooks, so `config.runHook('fex:call', ...)` is typed.
export type { CallOptions, CallAnswer } from './hooks/call-types.js';
