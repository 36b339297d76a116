/**
 * The plugin SDK's contracts are the compiler's to enforce: each `@ts-expect-error` below is a
 * mistake a plugin author must not be able to compile (the build fails if one compiles). The
 * run-time checks only confirm the helpers change nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Config } from '@oclif/core';
import {
  defineHandler,
  definePlugin,
  FexError,
  PLUGIN_API_VERSION,
  type RequestContext,
} from '../../src/index.js';

// Never called: what matters is what compiles.
export function contracts(ctx: RequestContext, config: Config): unknown[] {
  return [
    new FexError('NOT_CONNECTED', { action: 'Upload' }),
    // @ts-expect-error a misspelt built-in code
    new FexError('NOT_CONECTED', { action: 'Upload' }),
    new FexError('E_NOTES_FULL', {}, 'The notebook is full.'),
    // @ts-expect-error a plugin's own code comes with its sentence
    new FexError('E_NOTES_FULL'),
    // @ts-expect-error a plugin's own code starts with E_ and is in capitals
    new FexError('notes-full', {}, 'The notebook is full.'),
    ctx.server.fail('E_NOT_FOUND', 'No such note.'),
    // @ts-expect-error not a code at all
    ctx.server.fail('NOT_FOUND_PLEASE', 'No such note.'),
    () => {
      // @ts-expect-error who a connection is changes only through ctx.identify
      ctx.connection.handle = 'Boss';
    },
    // @ts-expect-error the storage is not a plugin's to write
    ctx.server.storage,
    // @ts-expect-error the handle registry is read-only
    ctx.server.handles.register('Boss'),
    config.runHook('fex:call', { type: 'note', fields: { text: 'hi' } }).then((result) => {
      const id: number = result.successes[0]!.result.id;
      const type: 'ok' = result.successes[0]!.result.type;
      return [id, type];
    }),
    // @ts-expect-error fex:call's options are declared in oclif's Hooks
    config.runHook('fex:call', { typ: 'note' }),
  ];
}

const note = defineHandler({
  params: { name: 'string', size: 'uint?', pinned: 'boolean' },
  async run(_ctx, request) {
    const name: string = request.name;
    const size: number | undefined = request.size;
    const pinned: boolean = request.pinned;
    // @ts-expect-error an optional field may be missing
    const sure: number = request.size;
    // @ts-expect-error a field the schema does not have
    void request.colour;
    void [name, size, pinned, sure];
  },
});

const plugin = definePlugin({
  name: 'notes',
  apiVersion: PLUGIN_API_VERSION,
  handlers: {
    note,
    tag: {
      params: { tag: 'string' },
      async run(_ctx, request) {
        const tag: string = request.tag;
        // @ts-expect-error inferred from this handler's params, not another's
        void request.name;
        void tag;
      },
    },
  },
});

describe('plugin SDK types', () => {
  it('definePlugin and defineHandler return what they are given', () => {
    assert.equal(plugin.handlers?.note, note);
    assert.equal(definePlugin(plugin), plugin);
  });
});
