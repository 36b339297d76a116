// The in-memory reference backend passes the same storage contract as the local one.
import { MemoryStorage, MemoryVolume, storageSuite } from '../../src/testing/index.js';

storageSuite('MemoryStorage (reference backend)', async () => {
  const volume = new MemoryVolume();
  const open = async () => {
    const storage = new MemoryStorage(volume);
    await storage.open();
    return storage;
  };
  return { storage: await open(), reopen: open };
});
