/**
 * How many cores this process could have had lately: the machine's idle time plus this
 * process's own, over the last second or two, from the CPU counters (`os.cpus()`, /proc/stat on
 * Linux). The hashing thread's gate (file-hash.ts) asks it. The 1-minute load average it
 * replaced lags by a minute and counts this process's own runnable threads against it: on 2
 * cores it almost never left "a core free", even on a quiet machine.
 */
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';

/** A window shorter than this is below the counters' resolution (10 ms ticks per core). */
const MIN_WINDOW_MS = 100;
/** The samples are renewed this often, so the window is the last one to two of these. */
const SAMPLE_EVERY_MS = 1000;

interface Sample {
  at: number;
  /** Idle milliseconds, summed over every core. */
  idleMs: number;
  /** CPU milliseconds of this process, all its threads. */
  ownMs: number;
}

function sample(): Sample {
  let idleMs = 0;
  for (const cpu of cpus()) idleMs += cpu.times.idle;
  const { user, system } = process.cpuUsage();
  return { at: performance.now(), idleMs, ownMs: (user + system) / 1000 };
}

/** From when this module loaded (a one-shot client's start), until the timer renews it. */
let older = sample();
let newer = older;
let timer: NodeJS.Timeout | undefined;

function renew(): void {
  older = newer;
  newer = sample();
}

/**
 * The cores free to this process over the last one to two seconds (fractional), or undefined
 * when no window of at least MIN_WINDOW_MS has passed since the process began to ask.
 */
export function freeCores(): number | undefined {
  // A timer that does not keep the process alive: a server that asks again hours later gets a
  // window of the last seconds, not the average since it last asked.
  timer ??= setInterval(renew, SAMPLE_EVERY_MS).unref();
  // Asked per chunk until it answers: no reading of the counters before the window is long enough.
  const at = performance.now();
  const base = at - newer.at >= MIN_WINDOW_MS ? newer : older;
  if (at - base.at < MIN_WINDOW_MS) return undefined;
  const now = sample();
  return (now.idleMs - base.idleMs + (now.ownMs - base.ownMs)) / (now.at - base.at);
}
