/**
 * The operator's key: 32 random bytes (hex) in `.fex/operator-key`, mode 0600, made on first start.
 * Whoever can read the server's bookkeeping folder is its operator; `fex operator delete` reads the
 * key there and sends it, so the operator deletes through the running server (which keeps its
 * index, journal and clients in step) rather than behind its back on the disk.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const OPERATOR_KEY_FILE = 'operator-key';
const KEY = /^[0-9a-f]{64}$/;

export async function loadOperatorKey(bookkeepingDir: string): Promise<string> {
  const path = join(bookkeepingDir, OPERATOR_KEY_FILE);
  const kept = (await readFile(path, 'utf8').catch(() => '')).trim();
  if (KEY.test(kept)) return kept;
  const key = randomBytes(32).toString('hex');
  await mkdir(bookkeepingDir, { recursive: true });
  await writeFile(path, `${key}\n`, { mode: 0o600 });
  return key;
}

/** Compared in constant time, so the answer's timing says nothing about the key. */
export function isOperatorKey(key: string, offered: string): boolean {
  const a = Buffer.from(key, 'utf8');
  const b = Buffer.from(offered, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
