/** The random source files of the measurements, and the check that every copy is intact. */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { MiB, sha256File } from './util.mjs';

/** Writes `size` random bytes to `path`; resolves with nothing (hash it separately). */
export async function makeRandomFile(path, size) {
  const out = createWriteStream(path);
  const chunk = 4 * MiB;
  for (let left = size; left > 0; left -= chunk) {
    if (!out.write(randomBytes(Math.min(chunk, left))))
      await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r, j) => out.end((e) => (e ? j(e) : r())));
}

export async function verify(path, expected) {
  const actual = await sha256File(path);
  if (actual !== expected) throw new Error(`${path}: SHA-256 differs from the source`);
  return true;
}
