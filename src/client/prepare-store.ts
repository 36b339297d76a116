/**
 * A store's first step, on the local file alone: its name checked, and a small file read whole
 * and hashed so its request can go without waiting; a larger one opened for streaming.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { STORE_BODY_MAX } from '../protocol/constants.js';
import { changedSizeError, FexError, localIoError, localReadError } from '../shared/errors.js';
import { refuseBadName } from '../protocol/names.js';
import { lazily } from './lazily.js';

// node:crypto is loaded when needed (about 4 ms): only a store hashes anything on this side.
const hashing = lazily(() => import('node:crypto'));

/**
 * What a store needs from the local file at `path`. With `inline` (the server takes small
 * bodies in the `store` request), a small file is read whole now.
 */
export async function prepareStore(path: string, inline: boolean): Promise<PreparedStore> {
  const name = basename(path).normalize('NFC');
  refuseBadName(name);
  const data = inline ? readSmall(path) : undefined;
  if (data) {
    const sha256 = (await hashing()).createHash('sha256').update(data).digest('hex');
    return { path, name, size: data.length, inline: { data, sha256 } };
  }
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (error) {
    throw localReadError(path, error);
  }
  try {
    const info = await file.stat();
    if (!info.isFile()) throw new FexError('LOCAL_NOT_FOUND');
    return { path, name, size: info.size, file };
  } catch (error) {
    await file.close().catch(() => undefined);
    throw error;
  }
}

/** A local file ready to be stored: read whole when small, else open for streaming. */
export interface PreparedStore {
  path: string;
  /** The name it is stored under: the base name, in NFC. */
  name: string;
  size: number;
  /** The whole file and its SHA-256, to send in the request itself. */
  inline?: { data: Buffer; sha256: string };
  /** The open file, when it is sent in steps (continue, data, commit); closed once sent. */
  file?: FileHandle;
  /** Seconds the server keeps it, 0 for ever; undefined for the server's default. */
  expires?: number;
}

/**
 * A regular file of at most STORE_BODY_MAX bytes, read whole; undefined for a larger one (sent
 * in steps). Synchronous on purpose: a few tiny system calls cost far less than four thread-pool
 * round trips, and this is what a run of small stores spends its time on. The open does not
 * block on a FIFO, which fstat then refuses.
 */
function readSmall(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw localReadError(path, error);
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw new FexError('LOCAL_NOT_FOUND');
    if (info.size > STORE_BODY_MAX) return undefined;
    // One byte more than measured, to notice a file that grew since.
    const buffer = Buffer.allocUnsafe(info.size + 1);
    let got = 0;
    for (let n = -1; n !== 0 && got < buffer.length; got += n)
      n = readSync(fd, buffer, got, buffer.length - got, got);
    if (got !== info.size) throw changedSizeError(path, info.size);
    return buffer.subarray(0, got);
  } catch (error) {
    throw error instanceof FexError ? error : localIoError('read', path, error);
  } finally {
    closeSync(fd);
  }
}
