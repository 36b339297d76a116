/** The persistent handle registry, on a real temporary directory. */
import assert from 'node:assert/strict';
import { remove } from 'fs-extra/esm';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FexError } from '../../src/shared/errors.js';
import { HandleRegistry } from '../../src/server/handles.js';

function fexCode(code: string): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof FexError, String(error));
    assert.equal(error.code, code);
    return true;
  };
}

describe('HandleRegistry', () => {
  let root: string;
  let count = 0;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'fex-handles-'));
  });
  after(async () => {
    await remove(root);
  });

  /** A fresh directory and an opened registry over it. */
  async function fresh(): Promise<{ dir: string; registry: HandleRegistry }> {
    const dir = await mkdtemp(join(root, `r${count++}-`));
    const registry = new HandleRegistry(dir);
    await registry.open();
    return { dir, registry };
  }

  it('registers a handle and returns a long random credential', async () => {
    const { registry } = await fresh();
    const credential = await registry.register('User1');
    assert.ok(credential.length >= 40, credential);
    assert.equal(await registry.has('User1'), true);
    const other = await registry.register('User2');
    assert.notEqual(other, credential);
  });

  it('refuses a handle already taken, also in another case', async () => {
    const { registry } = await fresh();
    await registry.register('User1');
    await assert.rejects(registry.register('User1'), fexCode('E_HANDLE_TAKEN'));
    await assert.rejects(registry.register('user1'), fexCode('E_HANDLE_TAKEN'));
    await assert.rejects(registry.register('USER1'), fexCode('E_HANDLE_TAKEN'));
  });

  it('refuses a bad handle with E_BAD_HANDLE and does not keep it', async () => {
    const { registry } = await fresh();
    for (const handle of ['', '-x', 'a b', 'a/b', 'x'.repeat(33)])
      await assert.rejects(registry.register(handle), fexCode('E_BAD_HANDLE'), handle);
    assert.equal(await registry.has('a b'), false);
  });

  it('verifies the right credential and returns the handle as registered', async () => {
    const { registry } = await fresh();
    const credential = await registry.register('User1');
    assert.equal(await registry.verify('User1', credential), 'User1');
    assert.equal(await registry.verify('uSeR1', credential), 'User1');
  });

  it("refuses a wrong credential, another handle's credential, or an unknown handle", async () => {
    const { registry } = await fresh();
    const first = await registry.register('User1');
    const second = await registry.register('User2');
    await assert.rejects(
      registry.verify('User1', 'not-the-credential'),
      fexCode('E_BAD_CREDENTIAL'),
    );
    await assert.rejects(registry.verify('User1', ''), fexCode('E_BAD_CREDENTIAL'));
    await assert.rejects(registry.verify('User1', second), fexCode('E_BAD_CREDENTIAL'));
    await assert.rejects(registry.verify('Nobody', first), fexCode('E_BAD_CREDENTIAL'));
  });

  it('keeps handles and credentials across a new instance on the same directory', async () => {
    const { dir, registry } = await fresh();
    const credential = await registry.register('Alice');
    await registry.register('Bob');
    const reopened = new HandleRegistry(dir);
    await reopened.open();
    assert.equal(await reopened.has('alice'), true);
    assert.equal(await reopened.verify('alice', credential), 'Alice');
    await assert.rejects(reopened.verify('Bob', credential), fexCode('E_BAD_CREDENTIAL'));
    await assert.rejects(reopened.register('BOB'), fexCode('E_HANDLE_TAKEN'));
  });

  it('does not store the credential in clear', async () => {
    const { dir, registry } = await fresh();
    const credential = await registry.register('Alice');
    const text = await readFile(join(dir, 'handles.json'), 'utf8');
    assert.match(text, /Alice/);
    assert.ok(!text.includes(credential), 'credential found in clear');
    assert.ok(!text.includes(Buffer.from(credential, 'base64url').toString('hex')));
    assert.ok(!text.includes(Buffer.from(credential, 'base64url').toString('base64')));
  });

  it('does not keep a claim it could not write to disk', async () => {
    const registry = new HandleRegistry(join(root, 'missing-dir'));
    await registry.open();
    await assert.rejects(registry.register('Alice'));
    assert.equal(await registry.has('Alice'), false);
  });
});
