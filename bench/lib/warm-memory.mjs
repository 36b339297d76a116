/**
 * Gives the next measurement the same free memory a bare-metal machine has.
 *
 * This machine is a virtual machine that hands freed memory back to its host within about a
 * second (the kernel's free page reporting). The first write into such memory faults it back in
 * from the host: writing 1 GiB into the page cache then cost `dd` 1.5-3.4 s of system CPU, and
 * 0.27-0.42 s when the same memory had been freed a moment before. Which contender of a round met
 * returned memory used to decide its time (dd's own 1 GiB varied 1.10-3.72 s in one quiet run),
 * and a contender after one that deleted its output met warm memory while one after fex's store
 * (whose file stays put) did not. So before each timed run the bench writes and deletes a file as
 * large as what the run will write, and every contender starts with memory freed a moment ago.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { MiB, quiet } from './util.mjs';

/** Writes `bytes` of zeros to a file in `dir` (page cache only, no flush) and deletes it. */
export function warmFreeMemory(dir, bytes) {
  const path = join(dir, 'warm-free-memory.tmp');
  const count = String(Math.ceil(bytes / MiB));
  const result = quiet('dd', [
    'if=/dev/zero',
    `of=${path}`,
    'bs=1M',
    `count=${count}`,
    'status=none',
  ]);
  rmSync(path, { force: true });
  if (result.code !== 0) throw new Error(`dd could not warm ${count} MiB: ${result.stderr.trim()}`);
}
