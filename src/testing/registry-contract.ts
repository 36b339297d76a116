/**
 * The registry contract suite: every handle registry (`HandleStore`) must pass it (exported by
 * `fex/testing`). A backend's test file calls `registrySuite(name, makeRegistry)` with a factory
 * that gives a fresh, opened, empty registry; run it with `node --test`. fex runs it against the
 * JSON file of one server (`HandleRegistry`) and against Redis (`RedisHandleStore`).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { HandleStore } from '../server/handles.js';
import { fexCode } from './storage-contract.js';

export interface RegistryFixture {
  /** A fresh, opened, empty registry. */
  registry: HandleStore;
  /** A new instance over the same data, opened, as after a server restart. */
  reopen(): Promise<HandleStore>;
  /**
   * For a registry several servers share: another instance over the same data, used at the
   * same time (another server). Without it, the suite checks races within one instance only.
   */
  another?(): Promise<HandleStore>;
  /** Everything the backend keeps, as text (a file, the values of its keys), if it can tell. */
  kept?(): Promise<string>;
  /** Removes whatever the fixture created. */
  cleanup?(): Promise<void>;
}

export function registrySuite(name: string, makeRegistry: () => Promise<RegistryFixture>): void {
  describe(`Registry contract: ${name}`, () => {
    const fixtures: RegistryFixture[] = [];

    async function fresh(): Promise<RegistryFixture> {
      const fixture = await makeRegistry();
      fixtures.push(fixture);
      return fixture;
    }

    after(async () => {
      for (const fixture of fixtures) await fixture.cleanup?.();
    });

    it('registers a handle and returns a long random credential', async () => {
      const { registry } = await fresh();
      assert.equal(await registry.has('User1'), false);
      const credential = await registry.register('User1');
      assert.ok(credential.length >= 40, credential);
      assert.equal(await registry.has('User1'), true);
      assert.equal(await registry.has('user1'), true);
      const other = await registry.register('User2');
      assert.notEqual(other, credential);
    });

    it('refuses a handle already taken, also in another case', async () => {
      const { registry } = await fresh();
      await registry.register('User1');
      for (const handle of ['User1', 'user1', 'USER1'])
        await assert.rejects(registry.register(handle), fexCode('E_HANDLE_TAKEN'), handle);
    });

    it('refuses a bad handle with E_BAD_HANDLE and does not keep it', async () => {
      const { registry } = await fresh();
      for (const handle of ['', '-x', 'a b', 'a/b', 'x'.repeat(33), 'a\nb'])
        await assert.rejects(registry.register(handle), fexCode('E_BAD_HANDLE'), handle);
      assert.equal(await registry.has('a b'), false);
      assert.equal(await registry.has(''), false);
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
      const refused = fexCode('E_BAD_CREDENTIAL');
      await assert.rejects(registry.verify('User1', 'not-the-credential'), refused);
      await assert.rejects(registry.verify('User1', ''), refused);
      await assert.rejects(registry.verify('User1', second), refused);
      await assert.rejects(registry.verify('Nobody', first), refused);
      await assert.rejects(registry.verify('a b', first), refused);
    });

    it('of the same handle registered at the same moment, exactly one wins', async () => {
      const fixture = await fresh();
      const others = fixture.another ? [await fixture.another(), await fixture.another()] : [];
      const all = [fixture.registry, ...others];
      const attempts = ['Race', 'race', 'RACE', 'rAcE', 'Race', 'racE'];
      const results = await Promise.allSettled(
        attempts.map((handle, i) => all[i % all.length]!.register(handle)),
      );
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [[i, r.value]] : []));
      assert.equal(won.length, 1, `winners: ${JSON.stringify(won)}`);
      for (const result of results)
        if (result.status === 'rejected') fexCode('E_HANDLE_TAKEN')(result.reason);
      const [winner, credential] = won[0] as [number, string];
      for (const registry of all)
        assert.equal(await registry.verify('RACE', credential), attempts[winner]);
    });

    it('registers many handles at once, each with its own credential', async () => {
      const fixture = await fresh();
      const all = [fixture.registry, ...(fixture.another ? [await fixture.another()] : [])];
      const handles = Array.from({ length: 40 }, (_, i) => `Many${i}`);
      const credentials = await Promise.all(
        handles.map((handle, i) => all[i % all.length]!.register(handle)),
      );
      assert.equal(new Set(credentials).size, handles.length);
      const reopened = await fixture.reopen();
      for (const [i, handle] of handles.entries())
        assert.equal(await reopened.verify(handle, credentials[i]!), handle);
    });

    it('keeps handles and credentials across a new instance over the same data', async () => {
      const fixture = await fresh();
      const credential = await fixture.registry.register('Alice');
      await fixture.registry.register('Bob');
      const reopened = await fixture.reopen();
      assert.equal(await reopened.has('alice'), true);
      assert.equal(await reopened.verify('alice', credential), 'Alice');
      await assert.rejects(reopened.verify('Bob', credential), fexCode('E_BAD_CREDENTIAL'));
      await assert.rejects(reopened.register('BOB'), fexCode('E_HANDLE_TAKEN'));
    });

    it('keeps only the SHA-256 of a credential, never the credential', async (t) => {
      const fixture = await fresh();
      if (!fixture.kept) return t.skip('this backend cannot show what it keeps');
      const credential = await fixture.registry.register('Alice');
      const text = await fixture.kept();
      assert.match(text, /Alice/);
      const raw = Buffer.from(credential, 'base64url');
      for (const form of [credential, raw.toString('hex'), raw.toString('base64')])
        assert.ok(!text.includes(form), `the credential is kept in clear: ${form}`);
    });
  });
}
