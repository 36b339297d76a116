/**
 * Writes a download aside in the destination's folder, checks its size and SHA-256, flushes it,
 * and only then renames it over the destination: an interrupted or corrupted download never
 * replaces anything. A download cut off by a lost connection keeps its aside file and a note of
 * the version it holds, so the next `get` to the same destination asks only for the rest.
 */
import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { hashFile } from '../shared/checksum.js';
import { runningHash } from '../shared/file-hash.js';
import type { FileEntry } from '../protocol/constants.js';
import { FexError, localIoError } from '../shared/errors.js';
import { isStreamFatal } from '../protocol/frame.js';
import { refuseBadName } from '../protocol/names.js';
import { SYNC_EVERY_BYTES, WriteBehind } from '../shared/write-behind.js';

/** The aside file of a download to `destination` (a short hidden name, whatever the name's length). */
function partPaths(destination: string): { data: string; note: string } {
  const key = createHash('sha256').update(basename(destination), 'utf8').digest('hex').slice(0, 16);
  const data = join(dirname(destination), `.${key}.fex-part`);
  return { data, note: `${data}.json` };
}

/**
 * The bytes an interrupted download to `destination` holds, and where: for `get
 * --discard-partial` and for the message after Ctrl-C. Undefined when nothing is held.
 */
export async function partialDownload(
  destination: string,
): Promise<{ path: string; bytes: number; size?: number } | undefined> {
  const { data, note } = partPaths(destination);
  const info = await stat(data).catch(() => undefined);
  if (!info?.isFile()) return undefined;
  const held = (await readFile(note, 'utf8')
    .then((text) => JSON.parse(text) as { size?: unknown })
    .catch(() => undefined)) ?? { size: undefined };
  const size = typeof held.size === 'number' ? held.size : undefined;
  return { path: data, bytes: info.size, size };
}

/**
 * `get NAME --discard-partial`: removes what an interrupted download of NAME to `destination`
 * holds, without asking any server. Resolves with the bytes removed (undefined: none were held)
 * and the folder they were in.
 */
export async function discardPartial(
  name: string,
  destination: string,
): Promise<{ bytes: number | undefined; folder: string }> {
  refuseBadName(name);
  const held = await partialDownload(destination);
  const { data, note } = partPaths(destination);
  try {
    await rm(data, { force: true });
    await rm(note, { force: true });
  } catch (error) {
    throw localIoError('remove', data, error);
  }
  return { bytes: held?.bytes, folder: resolve(dirname(destination)) };
}

export interface HeldPart {
  offset: number;
  sha256: string;
}

/** What an earlier, interrupted download of `name` to `destination` left behind, if anything. */
export async function heldPart(destination: string, name: string): Promise<HeldPart | undefined> {
  const { data, note } = partPaths(destination);
  try {
    const held = JSON.parse(await readFile(note, 'utf8')) as {
      name?: unknown;
      sha256?: unknown;
      size?: unknown;
    };
    const offset = (await stat(data)).size;
    if (held.name !== name || typeof held.sha256 !== 'string' || typeof held.size !== 'number')
      return undefined;
    return offset > 0 && offset <= held.size ? { offset, sha256: held.sha256 } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Opens the aside file: appending to the held bytes when resuming, afresh otherwise. It is opened
 * for reading too: a large download is hashed from it by the hashing thread (shared/file-hash.ts).
 */
async function openPart(
  destination: string,
  entry: FileEntry,
  offset: number,
): Promise<{ file: FileHandle; hash: Hash }> {
  const { data, note } = partPaths(destination);
  // The aside names are predictable, so in a shared folder another user could plant a link
  // there: never follow one (O_NOFOLLOW), and create fresh files only where none is (O_EXCL).
  if (offset > 0) {
    const file = await open(data, constants.O_RDWR | constants.O_APPEND | constants.O_NOFOLLOW);
    const info = await file.stat();
    if (!info.isFile() || info.size !== offset) {
      await file.close();
      throw new FexError('E_BAD_FRAME', { reason: 'resumed at an offset not held' });
    }
    return { file, hash: await hashFile(data, offset) };
  }
  const fresh = constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  await rm(data, { force: true });
  await rm(note, { force: true });
  const file = await open(data, fresh | constants.O_RDWR, 0o644);
  const noted = await open(note, fresh | constants.O_WRONLY, 0o644);
  try {
    await noted.writeFile(
      JSON.stringify({ name: entry.name, sha256: entry.sha256, size: entry.size }),
    );
  } finally {
    await noted.close();
  }
  return { file, hash: createHash('sha256') };
}

export async function receiveFile(
  destination: string,
  entry: FileEntry,
  offset: number,
  body: AsyncIterable<Buffer>,
  progress?: (done: number, total: number) => void,
): Promise<void> {
  const { data, note } = partPaths(destination);
  let opened: { file: FileHandle; hash: Hash };
  try {
    opened = await openPart(destination, entry, offset);
  } catch (error) {
    await rm(data, { force: true });
    await rm(note, { force: true });
    throw localIoError('write', destination, error);
  }
  const { file } = opened;
  const hash = runningHash(file.fd, entry.size, opened.hash);
  let outcome: 'kept' | 'resumable' | 'discarded' = 'discarded';
  const disk = new WriteBehind(file, {
    syncEvery: SYNC_EVERY_BYTES,
    onWritten: (written) => hash.landed(offset + written),
  });
  try {
    let received = offset;
    for await (const chunk of body) {
      hash.passed(chunk);
      received += chunk.length;
      await disk.write(chunk);
      progress?.(received, entry.size);
    }
    await disk.flush();
    if (received !== entry.size)
      throw new FexError('E_SIZE', { name: entry.name, got: received, expected: entry.size });
    // The hashing thread may still be reading the last batches back: flush meanwhile.
    const [digest] = await Promise.all([hash.digest(received), file.sync()]);
    if (digest !== entry.sha256) throw new FexError('E_CHECKSUM', { name: entry.name });
    await file.close();
    await rename(data, destination);
    outcome = 'kept';
    await rm(note, { force: true });
  } catch (error) {
    await disk.settle();
    await hash.release();
    if (isStreamFatal(error)) outcome = 'resumable';
    throw localIoError('write', destination, error);
  } finally {
    if (outcome !== 'kept') await file.close().catch(() => undefined);
    if (outcome === 'discarded') {
      await rm(data, { force: true });
      await rm(note, { force: true });
    }
  }
}

/** Where `get name [-o output]` writes: the current folder, a folder given, or a path given. */
export async function destinationFor(name: string, output: string | undefined): Promise<string> {
  if (output === undefined) return join(process.cwd(), name);
  const info = await stat(output).catch(() => undefined);
  return info?.isDirectory() ? join(output, name) : output;
}
