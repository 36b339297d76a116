/**
 * The server's lasting identity: 16 random bytes kept in `.fex/server-id`, made on first start.
 * A client records it with each credential it receives and sends that credential to no server
 * at the same address with another id: a server restarted on another directory, or another
 * program on the port, never receives it. (It proves nothing by itself; TLS does that.)
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
