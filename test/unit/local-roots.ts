/**
 * Temporary roots for LocalStorage tests, and the instances opened on them. Every instance is
 * closed when the file's tests end, crashed ones too (a test may open a second instance over a
 * root to play a restart): closing an old one only touches its own, long replaced journal file.
 */
import { remove } from 'fs-extra/esm';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { LocalStorage } from '../../src/server/storage/local-storage.js';

type LocalStorageOptions = ConstructorParameters<typeof LocalStorage>[1];

export function localRoots(prefix: string): {
  newRoot(): Promise<string>;
  openAt(root: string, options?: LocalStorageOptions): Promise<LocalStorage>;
} {
  let base: string;
  let count = 0;
  const opened: LocalStorage[] = [];
  before(async () => {
    base = await mkdtemp(join(tmpdir(), prefix));
  });
  after(async () => {
    for (const storage of opened) await storage.close();
    await remove(base);
  });
  return {
    async newRoot() {
      const root = join(base, `root-${count++}`);
      await mkdir(root);
      return root;
    },
    async openAt(root, options) {
      const storage = new LocalStorage(root, options);
      await storage.open();
      opened.push(storage);
      return storage;
    },
  };
}
