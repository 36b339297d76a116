/** Small file-system steps the local backend repeats. */
import { open } from 'node:fs/promises';
import { FexError } from '../../shared/errors.js';

export { hashFile } from '../../shared/checksum.js';

/** Makes a rename inside `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A disk failure as the client should hear it. */
export function ioError(error: unknown): FexError {
  if (error instanceof FexError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new FexError('E_DISK_FULL');
  return new FexError('E_INTERNAL', { reason: code ?? String(error) });
}
