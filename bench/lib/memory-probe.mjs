/**
 * Loaded into a server the bench starts (`node --import memory-probe.mjs`), it writes what the
 * process's memory is made of whenever its RSS reaches a new peak: V8's heap (and within it the
 * young generation and the old space), memory outside the heap that V8 knows of (Buffers), and
 * the rest of the RSS (code, Node's and libc's own allocations). The bench reads the last line
 * after the run, to say which part a peak came from. The file is FEX_BENCH_MEMORY_PROBE; deleting
 * it starts a new peak (the memory section measures a store and then a get on one server). The
 * thread count tells whether the hashing thread ran (it adds one, and 20-30 MiB). The bench's
 * sections import `readProbe` and `threadsOf` from here; in their process, where
 * FEX_BENCH_MEMORY_PROBE is not set, the module does nothing else.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

const file = process.env.FEX_BENCH_MEMORY_PROBE;
const MiB = 1024 * 1024;
const mib = (bytes) => Math.round((bytes / MiB) * 10) / 10;
let peak = 0;

/** The thread count of a process (this one by default), or null. */
export function threadsOf(pid = 'self') {
  try {
    return Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  } catch {
    return null;
  }
}

/** What a probed process's last peak was made of, as it wrote it to `probe`; null if nothing yet. */
export function readProbe(probe) {
  try {
    return JSON.parse(readFileSync(probe, 'utf8'));
  } catch {
    return null;
  }
}

function sample() {
  if (peak > 0 && !existsSync(file)) peak = 0;
  const m = process.memoryUsage();
  if (m.rss <= peak) return;
  peak = m.rss;
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s]));
  const line = {
    rssMiB: mib(m.rss),
    heapTotalMiB: mib(m.heapTotal),
    heapUsedMiB: mib(m.heapUsed),
    youngMiB: mib(spaces.new_space?.space_size ?? 0),
    oldUsedMiB: mib(spaces.old_space?.space_used_size ?? 0),
    externalMiB: mib(m.external),
    arrayBuffersMiB: mib(m.arrayBuffers),
    restMiB: mib(m.rss - m.heapTotal - m.external),
    threads: threadsOf(),
  };
  writeFileSync(file, `${JSON.stringify(line)}\n`);
}

// Every 50 ms, as the bench samples RSS; unref'd so the server still exits when it is done.
if (file) setInterval(sample, 50).unref();
