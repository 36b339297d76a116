/** Small file-system steps the local backend repeats. */
import { open } from 'node:fs/promises';
import { serverFailure, type FexError } from '../../shared/errors.js';

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

/** A disk failure as the client should hear it (the mapping is shared/errors.ts's). */
export function ioError(error: unknown): FexError {
  return serverFailure(error);
}
