/**
 * The server's lasting identity: 16 random bytes kept in `.fex/server-id`, made on first start.
 * Clients key the credentials they hold by it, so one server is one server to them whether they
 * reach it as localhost or 127.0.0.1, and after it moves to another port.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function loadServerId(bookkeepingDir: string): Promise<string> {
  const path = join(bookkeepingDir, 'server-id');
  const kept = await readFile(path, 'utf8').catch(() => '');
  if (/^[0-9a-f]{32}$/.test(kept.trim())) return kept.trim();
  const id = randomBytes(16).toString('hex');
  await mkdir(bookkeepingDir, { recursive: true });
  await writeFile(path, `${id}\n`, { mode: 0o644 });
  return id;
}
