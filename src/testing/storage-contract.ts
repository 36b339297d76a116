/**
 * The storage contract suite: every Storage backend must pass it (exported by `fex/testing`).
 * A backend's test file calls `storageSuite(name, makeStorage)` with a factory that gives a fresh,
 * opened, empty storage and a way to open a second instance over the same data; run it with
 * `node --test`. fex runs it against its local backend and its in-memory reference backend.
 */
import { after, describe } from 'node:test';
import type { Storage } from '../server/storage/storage.js';
import { type StorageFixture } from './storage-helpers.js';
import { putCases } from './storage-cases/put.js';
import { ownersCases } from './storage-cases/owners.js';
import { readingCases } from './storage-cases/reading.js';
import { removeRenameCases } from './storage-cases/remove-rename.js';
import { expiryCases } from './storage-cases/expiry.js';

export {
  chunked,
  contents,
  drain,
  fexCode,
  pattern,
  sha256,
  statOf,
  store,
  type StorageFixture,
} from './storage-helpers.js';

export function storageSuite(name: string, makeStorage: () => Promise<StorageFixture>): void {
  describe(`Storage contract: ${name}`, () => {
    const fixtures: StorageFixture[] = [];
    const opened: Storage[] = [];

    async function fresh(): Promise<StorageFixture> {
      const fixture = await makeStorage();
      fixtures.push(fixture);
      opened.push(fixture.storage);
      return fixture;
    }

    async function empty(): Promise<Storage> {
      return (await fresh()).storage;
    }

    after(async () => {
      for (const storage of opened) await storage.close();
      for (const fixture of fixtures) await fixture.cleanup?.();
    });

    // In the order the cases were written in: a failure reads the same as before the split.
    const suite = { fresh, empty, opened };
    putCases(suite);
    ownersCases(suite);
    readingCases(suite);
    removeRenameCases(suite);
    expiryCases(suite);
  });
}
