/**
 * What the storage contract suite's cases share, and what a backend's own tests may use too
 * (exported by `fex/testing` through storage-contract.ts): fixtures, byte patterns, one-call
 * store, reading back, and the assertion on a FexError's code.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { FexError } from '../shared/errors.js';
import type { PutOptions, Storage, StoredFile } from '../server/storage/storage.js';

export interface StorageFixture {
  /** A fresh, opened, empty storage. */
  storage: Storage;
  /** A new instance over the same data, opened, as after a server restart. */
  reopen(): Promise<Storage>;
  /** Removes whatever the fixture created. */
  cleanup?(): Promise<void>;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function* chunked(data: Buffer, size = 64 * 1024): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

/** Deterministic, non-repeating-looking bytes. */
export function pattern(size: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

/** put + write + commit with the right checksum. */
export async function store(
  storage: Storage,
  name: string,
  owner: string,
  data: Buffer | string,
): Promise<StoredFile> {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const pending = await storage.put(name, { owner, size: bytes.length });
  await pending.write(chunked(bytes));
  return pending.commit(sha256(bytes));
}

export async function drain(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

export async function contents(storage: Storage, name: string): Promise<Buffer> {
  return drain((await storage.read(name)).stream);
}

export function fexCode(code: string): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof FexError, `expected a FexError ${code}, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };
}

/** One file's entry, as `list()` has it; undefined when there is none. */
export async function statOf(storage: Storage, name: string): Promise<StoredFile | undefined> {
  return (await storage.list()).find((file) => file.name === name);
}

export async function assertAbsent(storage: Storage, name: string): Promise<void> {
  assert.equal(await statOf(storage, name), undefined);
  assert.ok(!(await storage.list()).some((f) => f.name === name), `${name} is listed`);
  await assert.rejects(storage.read(name), fexCode('E_NOT_FOUND'));
}

/** put with options + write + commit with the right checksum. */
export async function storePut(
  storage: Storage,
  name: string,
  options: Omit<PutOptions, 'size'>,
  data: Buffer | string,
): Promise<StoredFile> {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const pending = await storage.put(name, { ...options, size: bytes.length });
  await pending.write(chunked(bytes));
  return pending.commit(sha256(bytes));
}

/** What every group of cases gets from storageSuite(): fresh storages, closed and cleaned after. */
export interface SuiteContext {
  /** A fresh fixture, cleaned up after the suite. */
  fresh(): Promise<StorageFixture>;
  /** A fresh, empty storage. */
  empty(): Promise<Storage>;
  /** Storages the suite closes at the end (a reopened one is added here). */
  opened: Storage[];
}
