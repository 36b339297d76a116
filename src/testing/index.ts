/**
 * The test kit of the plugin SDK (`fex/testing`): a real server with the plugin under test, real
 * users of the `fex` binary, the storage contract suite with its in-memory reference backend, and
 * the registry contract suite.
 * docs/plugins.md ("Testing a plugin") and docs/storage.md.
 */
export {
  startServer,
  newUser,
  cleanup,
  tempDir,
  FEX_BIN,
  type TestServer,
  type TestUser,
  type RunResult,
  type PluginUnderTest,
} from './kit.js';
export { LiveShell, maskTimes } from './live-shell.js';
export {
  storageSuite,
  statOf,
  store,
  contents,
  drain,
  chunked,
  pattern,
  sha256,
  fexCode,
  type StorageFixture,
} from './storage-contract.js';
export { MemoryStorage, MemoryVolume } from './memory-storage.js';
export { registrySuite, type RegistryFixture } from './registry-contract.js';
export type { HandleStore } from '../server/handles.js';
export type {
  Storage,
  ListOptions,
  PendingPut,
  PutOptions,
  StoredFile,
} from '../server/storage/storage.js';
export { fileIndexSuite, indexed, type FileIndexFixture } from './file-index-contract.js';
export type {
  FileIndex,
  IndexedFile,
  PartialUpload,
  HeldPart,
} from '../server/storage/file-index.js';
