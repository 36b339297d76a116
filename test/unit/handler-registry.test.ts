/** The handler table the server fills from plugins. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FexError } from '../../src/shared/errors.js';
import { HandlerRegistry } from '../../src/server/handler-registry.js';
import {
  PLUGIN_API_VERSION,
  type Handler,
  type ServerPlugin,
} from '../../src/server/plugin-api.js';

function handler(): Handler {
  return { params: {}, run: async () => undefined };
}

function plugin(name: string, types: string[], apiVersion = PLUGIN_API_VERSION): ServerPlugin {
  return { name, apiVersion, handlers: Object.fromEntries(types.map((t) => [t, handler()])) };
}

function serveFailed(pattern: RegExp): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof FexError);
    assert.equal(error.code, 'SERVE_FAILED');
    assert.match(error.message, pattern);
    return true;
  };
}

describe('HandlerRegistry', () => {
  it('serves the handlers of added plugins and lists their types sorted', () => {
    const registry = new HandlerRegistry();
    const core = plugin('core', ['store', 'dir', 'hello']);
    registry.add(core);
    registry.add(plugin('extra', ['delete', 'Zap']));
    registry.add({ name: 'setup-only', apiVersion: PLUGIN_API_VERSION });
    assert.deepEqual(registry.types(), ['Zap', 'delete', 'dir', 'hello', 'store']);
    assert.equal(registry.get('dir')?.handler, core.handlers?.dir);
    assert.equal(registry.get('dir')?.core, false, 'only the built-in plugin is core');
    assert.equal(registry.get('nope'), undefined);
    assert.deepEqual(
      registry.plugins.map((p) => p.name),
      ['core', 'extra', 'setup-only'],
    );
  });

  it('refuses a type already served, naming both plugins', () => {
    const registry = new HandlerRegistry();
    registry.add(plugin('core', ['dir']));
    assert.throws(
      () => registry.add(plugin('fancy-dir', ['dir'])),
      serveFailed(/"fancy-dir".*"dir".*"core"/),
    );
  });

  it('refuses a plugin written for another API version, naming it', () => {
    const registry = new HandlerRegistry();
    assert.throws(
      () => registry.add(plugin('old', ['x'], PLUGIN_API_VERSION + 1)),
      serveFailed(/"old"/),
    );
    assert.equal(registry.get('x'), undefined);
  });

  it('refuses a plugin without a name', () => {
    const registry = new HandlerRegistry();
    assert.throws(() => registry.add(plugin('', ['x'])), serveFailed(/no name/));
    const nameless = { apiVersion: PLUGIN_API_VERSION } as unknown as ServerPlugin;
    assert.throws(() => registry.add(nameless), serveFailed(/no name/));
  });

  it('refuses a handler without run or params', () => {
    const registry = new HandlerRegistry();
    const broken = {
      name: 'broken',
      apiVersion: PLUGIN_API_VERSION,
      handlers: { x: { params: {} } },
    } as unknown as ServerPlugin;
    assert.throws(() => registry.add(broken), serveFailed(/"broken".*"x"/));
  });
});
