/**
 * The operator's limits on how many files are stored: in all (`maxFiles`) and per handle
 * (`maxFilesPerHandle`). A store of a new name takes room before its first byte is accepted and
 * holds it until its commit succeeds or fails, so concurrent stores cannot overshoot together.
 */
import { FexError } from '../shared/errors.js';
import type { CoreServices } from './core-services.js';

interface Pending {
  total: number;
  byOwner: Map<string, number>;
}

const pendingOf = new WeakMap<CoreServices, Pending>();

function add(map: Map<string, number>, key: string, delta: number): void {
  const n = (map.get(key) ?? 0) + delta;
  if (n > 0) map.set(key, n);
  else map.delete(key);
}

/** Whether `name` is stored: no name with it as a prefix sorts before it, so one entry tells. */
async function stored(server: CoreServices, name: string): Promise<boolean> {
  const [first] = await server.storage.list({ prefix: name, limit: 1 });
  return first?.name === name;
}

/**
 * Room for `name` stored by `owner`: nothing to take when it replaces a stored file, else one
 * more file in all and for `owner`, or E_TOO_MANY_FILES. Resolves with the function that gives
 * the room back.
 */
export async function takeRoom(
  server: CoreServices,
  owner: string,
  name: string,
): Promise<() => void> {
  const { maxFiles, maxFilesPerHandle } = server.limits;
  if ((maxFiles === 0 && maxFilesPerHandle === 0) || (await stored(server, name)))
    return () => undefined;
  let pending = pendingOf.get(server);
  if (!pending) pendingOf.set(server, (pending = { total: 0, byOwner: new Map() }));
  if (maxFiles > 0 && server.storage.count() + pending.total >= maxFiles)
    throw new FexError('E_TOO_MANY_FILES', {
      reason: `the server already holds ${maxFiles} files, the most it allows`,
    });
  const owned = server.storage.count(owner) + (pending.byOwner.get(owner) ?? 0);
  if (maxFilesPerHandle > 0 && owned >= maxFilesPerHandle)
    throw new FexError('E_TOO_MANY_FILES', {
      reason: `${owner} already owns ${maxFilesPerHandle} files, the most this server allows one handle`,
    });
  pending.total++;
  add(pending.byOwner, owner, 1);
  let given = false;
  const held = pending;
  return () => {
    if (given) return;
    given = true;
    held.total--;
    add(held.byOwner, owner, -1);
  };
}
