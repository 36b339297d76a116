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
  // Taken before the counts are asked (a shared index answers asynchronously), so concurrent
  // stores see each other's room; given back if the limit refuses this one.
  pending.total++;
  add(pending.byOwner, owner, 1);
  const held = pending;
  const undo = () => {
    held.total--;
    add(held.byOwner, owner, -1);
  };
  let counts: [number, number];
  try {
    counts = await Promise.all([server.storage.count(), server.storage.count(owner)]);
  } catch (error) {
    undo();
    throw error;
  }
  // The room of the stores in flight besides this one, as it is once the counts are in.
  const others = { total: held.total - 1, owned: (held.byOwner.get(owner) ?? 1) - 1 };
  if (maxFiles > 0 && counts[0] + others.total >= maxFiles) {
    undo();
    throw new FexError('E_TOO_MANY_FILES', {
      reason: `the server already holds ${maxFiles} files, the most it allows`,
    });
  }
  if (maxFilesPerHandle > 0 && counts[1] + others.owned >= maxFilesPerHandle) {
    undo();
    throw new FexError('E_TOO_MANY_FILES', {
      reason: `${owner} already owns ${maxFilesPerHandle} files, the most this server allows one handle`,
    });
  }
  let given = false;
  return () => {
    if (given) return;
    given = true;
    undo();
  };
}
