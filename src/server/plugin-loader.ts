/**
 * Loads `--plugin` arguments: a path (absolute, or starting with `.`) or a package name resolved
 * from the current folder. The module's default export (or its `plugin` export) is the plugin.
 */
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FexError } from '../protocol/errors.js';
import type { ServerPlugin } from './plugin-api.js';

function locate(spec: string, cwd: string): string {
  if (isAbsolute(spec) || spec.startsWith('.')) return pathToFileURL(resolve(cwd, spec)).href;
  return pathToFileURL(createRequire(join(cwd, 'noop.js')).resolve(spec)).href;
}

export async function loadPlugin(spec: string, cwd = process.cwd()): Promise<ServerPlugin> {
  let module: { default?: unknown; plugin?: unknown };
  try {
    module = (await import(locate(spec, cwd))) as typeof module;
  } catch (error) {
    const reason = (error as Error)?.message?.split('\n')[0] ?? String(error);
    throw new FexError('SERVE_FAILED', {
      reason: `plugin "${spec}" could not be loaded: ${reason}`,
    });
  }
  const plugin = (module.default ?? module.plugin) as ServerPlugin | undefined;
  if (!plugin || typeof plugin !== 'object')
    throw new FexError('SERVE_FAILED', { reason: `plugin "${spec}" exports no plugin object` });
  return plugin;
}
