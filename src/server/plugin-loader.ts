/**
 * Loads server plugins: a path (absolute, or starting with `.`; a file or a package folder) or a
 * package name resolved from `base`. The module's default export (or its `plugin` export) is the
 * plugin, or a function of its options that returns the plugin.
 */
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FexError } from '../shared/errors.js';
import type { PluginExport, ServerPlugin } from './plugin-api.js';

export interface PluginSpec {
  /** A path or a package name. */
  module: string;
  options?: Record<string, unknown>;
}

function failure(spec: string, reason: string): FexError {
  return new FexError('SERVE_FAILED', { reason: `plugin "${spec}" ${reason}` });
}

function locate(spec: string, base: string): string {
  const require = createRequire(join(base, 'noop.js'));
  const target = isAbsolute(spec) || spec.startsWith('.') ? resolve(base, spec) : spec;
  return pathToFileURL(require.resolve(target)).href;
}

export async function loadPlugin(
  { module: spec, options = {} }: PluginSpec,
  base = process.cwd(),
): Promise<ServerPlugin> {
  let exported: { default?: unknown; plugin?: unknown };
  try {
    exported = (await import(locate(spec, base))) as typeof exported;
  } catch (error) {
    const reason = (error as Error)?.message?.split('\n')[0] ?? String(error);
    throw failure(spec, `could not be loaded: ${reason}`);
  }
  const found = (exported.default ?? exported.plugin) as PluginExport | undefined;
  let plugin: unknown = found;
  if (typeof found === 'function') {
    try {
      plugin = await found(options);
    } catch (error) {
      throw failure(spec, `refused its options: ${(error as Error)?.message ?? String(error)}`);
    }
  }
  if (!plugin || typeof plugin !== 'object') throw failure(spec, 'exports no plugin object');
  return plugin as ServerPlugin;
}
