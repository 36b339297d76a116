/**
 * What the built-in handlers may touch beyond a plugin: the storage itself, to write files.
 * Plugins see only read-only views (plugin-api.ts); the handler registry hands these services
 * to the handlers of the built-in plugin alone.
 */
import type { Schema } from '../protocol/schema.js';
import type { Handler, ServerServices } from './plugin-api.js';
import type { Storage } from './storage/storage.js';

export interface CoreServices extends ServerServices {
  readonly storage: Storage;
}

/** A built-in handler, its request typed from its `params`. */
export function coreHandler<const S extends Schema>(
  handler: Handler<S, CoreServices>,
): Handler<S, CoreServices> {
  return handler;
}
