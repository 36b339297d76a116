/** The handler table: request type -> handler, filled from plugins, built-ins first. */
import { FexError } from '../shared/errors.js';
import { PLUGIN_API_VERSION, type Handler, type Hooks, type ServerPlugin } from './plugin-api.js';

/** A served request type: its handler, and whether it is one of the core's own. */
export interface HandlerEntry {
  handler: Handler;
  plugin: string;
  /** A built-in handler: it gets the core's services (the storage), not a plugin's view. */
  core: boolean;
}

export class HandlerRegistry {
  private readonly handlers = new Map<string, HandlerEntry>();
  readonly plugins: ServerPlugin[] = [];

  /** Every plugin's hooks of one kind, in load order. */
  hooks<K extends keyof Hooks>(kind: K): Array<NonNullable<Hooks[K]>> {
    return this.plugins.flatMap((plugin) => {
      const hook = plugin.hooks?.[kind];
      // Bound, so a hook written as a method still sees its own object as `this`.
      return hook ? [hook.bind(plugin.hooks) as NonNullable<Hooks[K]>] : [];
    });
  }

  /**
   * Adds a plugin's handlers; refuses a wrong API version or a type already served. `core` is for
   * the built-in plugin only.
   */
  add(plugin: ServerPlugin, { core = false } = {}): void {
    if (typeof plugin?.name !== 'string' || plugin.name.length === 0)
      throw new FexError('SERVE_FAILED', { reason: 'a plugin has no name' });
    if (plugin.apiVersion !== PLUGIN_API_VERSION)
      throw new FexError('SERVE_FAILED', {
        reason: `plugin "${plugin.name}" is written for plugin API ${String(plugin.apiVersion)}, this server provides ${PLUGIN_API_VERSION}`,
      });
    for (const [type, handler] of Object.entries(plugin.handlers ?? {})) {
      const existing = this.handlers.get(type);
      if (existing)
        throw new FexError('SERVE_FAILED', {
          reason: `plugin "${plugin.name}" serves "${type}", which plugin "${existing.plugin}" already serves`,
        });
      if (typeof handler?.run !== 'function' || typeof handler.params !== 'object')
        throw new FexError('SERVE_FAILED', {
          reason: `plugin "${plugin.name}" has an invalid handler for "${type}"`,
        });
      this.handlers.set(type, { handler: handler as Handler, plugin: plugin.name, core });
    }
    this.plugins.push(plugin);
  }

  get(type: string): HandlerEntry | undefined {
    return this.handlers.get(type);
  }

  /** The request types that open a connection (`hello`), for the refusal of anything else. */
  handshakes(): string[] {
    return this.types().filter((type) => this.handlers.get(type)?.handler.handshake === true);
  }

  types(): string[] {
    return [...this.handlers.keys()].sort();
  }

  /** The request types whose handler accepts a body of its own. */
  bodyTypes(): string[] {
    return this.types().filter((type) => this.handlers.get(type)?.handler.body === true);
  }
}
