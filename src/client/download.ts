/**
 * Writes a download aside in the destination's folder, checks its size and SHA-256, flushes it,
 * and only then renames it over the destination: an interrupted or corrupted download never
 * replaces anything.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { FileEntry } from '../protocol/constants.js';
import { FexError } from '../protocol/errors.js';

export async function receiveFile(
  destination: string,
  entry: FileEntry,
  body: AsyncIterable<Buffer>,
  progress?: (done: number, total: number) => void,
): Promise<void> {
  const aside = join(
    dirname(destination),
    `.${basename(destination)}.${randomBytes(6).toString('hex')}.fex-part`,
  );
  let file: FileHandle;
  try {
    file = await open(aside, 'wx', 0o644);
  } catch (error) {
    throw new FexError('LOCAL_IO', {
      op: 'write',
      path: destination,
      reason: (error as NodeJS.ErrnoException).code ?? String(error),
    });
  }
  let kept = false;
  try {
    const hash = createHash('sha256');
    let received = 0;
    for await (const chunk of body) {
      hash.update(chunk);
      received += chunk.length;
      await file.write(chunk);
      progress?.(received, entry.size);
    }
    if (received !== entry.size)
      throw new FexError('E_SIZE', { name: entry.name, got: received, expected: entry.size });
    if (hash.digest('hex') !== entry.sha256) throw new FexError('E_CHECKSUM', { name: entry.name });
    await file.sync();
    await file.close();
    await rename(aside, destination);
    kept = true;
  } catch (error) {
    if (error instanceof FexError) throw error;
    throw new FexError('LOCAL_IO', {
      op: 'write',
      path: destination,
      reason: (error as NodeJS.ErrnoException).code ?? String(error),
    });
  } finally {
    if (!kept) {
      await file.close().catch(() => undefined);
      await rm(aside, { force: true });
    }
  }
}

/** Where `get name [-o output]` writes: the current folder, a folder given, or a path given. */
export async function destinationFor(name: string, output: string | undefined): Promise<string> {
  if (output === undefined) return join(process.cwd(), name);
  const { stat } = await import('node:fs/promises');
  const info = await stat(output).catch(() => undefined);
  return info?.isDirectory() ? join(output, name) : output;
}
