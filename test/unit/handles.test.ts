/** The persistent handle registry, on a real temporary directory. */
import assert from 'node:assert/strict';
import { remove } from 'fs-extra/esm';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HandleRegistry } from '../../src/server/handles.js';
import { registrySuite } from '../../src/testing/index.js';

registrySuite('HandleRegistry (a JSON file)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fex-handles-'));
  const open = async () => {
    const registry = new HandleRegistry(dir);
    await registry.open();
    return registry;
  };
  return {
    registry: await open(),
    reopen: open,
    kept: () => readFile(join(dir, 'handles.json'), 'utf8'),
    cleanup: () => remove(dir),
  };
});

describe('HandleRegistry', () => {
  let root: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'fex-handles-'));
  });
  after(async () => {
    await remove(root);
  });

  it('does not keep a claim it could not write to disk', async () => {
    const registry = new HandleRegistry(join(root, 'missing-dir'));
    await registry.open();
    await assert.rejects(registry.register('Alice'));
    assert.equal(await registry.has('Alice'), false);
  });
});
