/** The SHA-256 both ends compute over files, streamed so no file is ever held in memory. */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** The running hash of a file's first `length` bytes (all of it by default). */
export async function hashFile(path: string, length?: number): Promise<Hash> {
  const hash = createHash('sha256');
  if (length === 0) return hash;
  const range = length === undefined ? {} : { start: 0, end: length - 1 };
  for await (const chunk of createReadStream(path, { ...range, highWaterMark: 256 * 1024 }))
    hash.update(chunk as Buffer);
  return hash;
}
