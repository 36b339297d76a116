/**
 * Collects V8's young generation once every COLLECT_EVERY_BYTES a process has read from its
 * peers, so the read buffers of a large transfer are freed as it goes.
 *
 * Every socket read of a transfer is a fresh buffer (Node's 64 KiB on the server, the client's
 * own 512 KiB in client/socket-reads.ts), malloc'd outside V8's heap, that is garbage a moment
 * later (written to disk, hashed). V8 frees such a buffer only when it collects the small
 * object that holds it, and a transfer allocates too few objects to fill even the smallest young
 * generation: no scavenge ran during a 256 MiB store. What collected them was the mark-compact V8
 * starts when memory outside its heap has grown by tens of MiB, nine times per 256 MiB. Between
 * two of them the dead buffers piled up in the C heap, and glibc keeps the pages of its highest
 * pile: the receiving ends' RSS grew with the file, 107 MiB for 64 MiB and 147 MiB for 256 MiB
 * (docs/performance.md, "Memory flat in the file size"). A scavenge every few MiB frees them
 * while the pile is small, and costs less than the mark-compacts it replaces: it visits only the
 * few objects alive in the young generation.
 *
 * Only what was received in the last COLLECT_EVERY_BYTES is young then, and of that only the
 * write-behind's two batches (about 2 MiB) are still alive: they survive one scavenge and die
 * before the next, so they are not promoted to the old generation.
 *
 * A scavenge costs in proportion to the young objects it copies, at most what the young
 * generation holds. Where that is more than COLLECT_EVERY_BYTES, the process allocates objects
 * fast (thousands of clients at once) and V8 scavenges often on its own, freeing the buffers as
 * it goes; forcing one then cost more than it gave (a crowd of 3,000 clients, 300 transferring:
 * the server's CPU for the transfers 1.43 s against 1.03 s without), so it is skipped.
 */
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Bytes read between two scavenges: a few times the write-behind's 2 MiB, so it is not promoted. */
export const COLLECT_EVERY_BYTES = 8 * 1024 * 1024;

type Collect = (options: { type: 'minor'; execution: 'sync' }) => void;

let collect: Collect | undefined;
let unswept = 0;

/**
 * V8's `gc` function, taken from a context made while `--expose-gc` is set for that moment
 * only: no other context (the main one, a plugin's) gets a global `gc`.
 */
function collector(): Collect {
  if (collect) return collect;
  setFlagsFromString('--expose-gc');
  try {
    collect = runInNewContext('gc') as Collect;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  return collect;
}

/** Bytes in V8's young generation now, live or not: the most a scavenge would copy. */
function youngInUse(): number {
  for (const space of getHeapSpaceStatistics())
    if (space.space_name === 'new_space') return space.space_used_size;
  return 0;
}

/**
 * Counts `bytes` just read from a peer (any connection of this process); once COLLECT_EVERY_BYTES
 * have been read since the last check, runs a scavenge unless the young generation holds more
 * than that (V8 will scavenge soon by itself, and a scavenge now would copy more than it frees).
 * `young` reads that size (a test gives its own).
 */
export function received(bytes: number, young: () => number = youngInUse): void {
  unswept += bytes;
  if (unswept < COLLECT_EVERY_BYTES) return;
  unswept = 0;
  if (young() > COLLECT_EVERY_BYTES) return;
  collector()({ type: 'minor', execution: 'sync' });
}
