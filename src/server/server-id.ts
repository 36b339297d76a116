/**
 * The server's lasting identity: 16 random bytes kept in `.fex/server-id`, made on first start.
 * A client records it with each credential it receives and sends that credential to no server
 * at the same address with another id: a server restarted on another directory, or another
 * program on the port, never receives it. (It proves nothing by itself; TLS does that.)
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RESERVED_DIR } from '../protocol/names.js';
import { mkdirDurably, writeDurably } from './durable-file.js';

export async function loadServerId(bookkeepingDir: string): Promise<string> {
  const path = join(bookkeepingDir, 'server-id');
  const kept = await readFile(path, 'utf8').catch(() => '');
  if (/^[0-9a-f]{32}$/.test(kept.trim())) return kept.trim();
  const id = randomBytes(16).toString('hex');
  // Clients file their credentials under this id: a new one after a power cut would strand them.
  await mkdirDurably(bookkeepingDir);
  await writeDurably(path, `${id}\n`, 0o644);
  return id;
}

/**
 * The id a server goes by: its cluster's, when it shares state (`shared`, kept in Redis), else
 * its own from its folder `dir`. The S3 backend files its objects under the same id.
 */
export function serverIdOf(dir: string, shared?: () => Promise<string>): Promise<string> {
  return shared?.() ?? loadServerId(join(dir, RESERVED_DIR));
}
