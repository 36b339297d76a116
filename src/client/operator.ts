/**
 * The operator's side of the client: the key is read from the server's own bookkeeping folder,
 * so only someone who can read that folder acts as the operator (src/server/operator-key.ts).
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DEFAULT_HOST, DEFAULT_PORT } from '../protocol/constants.js';
import { FexError, localIoError } from '../shared/errors.js';
import { RESERVED_DIR } from '../protocol/names.js';
import { parseServer } from '../shared/address.js';
import { Session, type FileChange } from './session.js';

const KEY_FILE = 'operator-key';

async function readKey(dir: string): Promise<string> {
  const path = join(resolve(dir), RESERVED_DIR, KEY_FILE);
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (error) {
    const { message } = localIoError('read', path, error);
    throw new FexError('NO_OPERATOR_KEY', { path, reason: message.replace(/^.*: /, '') });
  }
}

/** Deletes `name` on the server, whoever stored it. */
export async function operatorDelete(
  name: string,
  dir: string,
  server = `${DEFAULT_HOST}:${DEFAULT_PORT}`,
): Promise<FileChange> {
  const key = await readKey(dir);
  const session = await Session.open(parseServer(server));
  try {
    return await session.operatorDelete(name, key);
  } finally {
    await session.leave();
  }
}
