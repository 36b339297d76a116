/**
 * Shared helpers of the benchmark: sizes and statistics, timed child processes with their peak
 * RSS, a registry of every process the bench starts (so all of them are stopped at the end, also
 * on failure), and a few probes of the machine.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, totalmem, release } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
// The bench always runs after `npm run build` (see package.json's bench script).
import { parseSize as parseFexSize } from '../../dist/src/shared/sizes.js';

export { sleep };

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** `1GiB`, `64MiB`, `512k`, `1048576` -> bytes, read as `fex serve` reads sizes. */
export function parseSize(text) {
  const bytes = parseFexSize(String(text));
  if (bytes === undefined) throw new Error(`not a size: ${text}`);
  return bytes;
}

export function formatSize(bytes) {
  if (bytes >= GiB && bytes % GiB === 0) return `${bytes / GiB} GiB`;
  if (bytes >= MiB) return `${+(bytes / MiB).toFixed(1)} MiB`;
  if (bytes >= KiB) return `${+(bytes / KiB).toFixed(1)} KiB`;
  return `${bytes} B`;
}

export function median(values) {
  const sorted = values.filter((v) => typeof v === 'number' && Number.isFinite(v));
  if (sorted.length === 0) return null;
  sorted.sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function round(value, digits = 3) {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function ratio(a, b) {
  return a && b ? round(a / b, 3) : null;
}

export function log(message) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/* ------------------------------------------------------------------------------------------ */
/* Processes                                                                                   */
/* ------------------------------------------------------------------------------------------ */

const running = new Set();

/**
 * Spawns and remembers a process. `group: true` starts it in its own process group (daemons that
 * fork per connection: vsftpd, sshd), which is then stopped as a whole by its id.
 */
export function start(command, args, options = {}) {
  const { group = false, ...rest } = options;
  const child = spawn(command, args, { ...rest, detached: group });
  const entry = { child, group };
  running.add(entry);
  child.once('exit', () => running.delete(entry));
  child.once('error', () => running.delete(entry));
  return child;
}

function signal(entry, sig) {
  const { child, group } = entry;
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    if (group) process.kill(-child.pid, sig);
    else child.kill(sig);
  } catch {
    // already gone
  }
}

/** Stops one process started by `start` (SIGTERM, then SIGKILL after a grace period). */
export async function stop(child, graceMs = 3000) {
  const entry = [...running].find((e) => e.child === child);
  if (!entry) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  signal(entry, 'SIGTERM');
  const timer = setTimeout(() => signal(entry, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  // A daemon's forked children (one per session) go with its group.
  if (entry.group) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group is empty
    }
  }
}

/** Stops every process the bench started; safe to call more than once. */
export async function stopAll() {
  await Promise.all([...running].map((entry) => stop(entry.child, 2000)));
}

/** Synchronous last resort for `process.on('exit')`. */
export function killAllNow() {
  for (const entry of running) signal(entry, 'SIGKILL');
}

/** Waits until a child exits; resolves with { code, signal }. */
export function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => {
    child.once('exit', (code, sig) => resolve({ code, signal: sig }));
    child.once('error', (error) => resolve({ code: -1, signal: null, error }));
  });
}

/** Collects a stream's text, keeping at most the last `limit` characters. */
export function collect(stream, limit = 1 << 16) {
  const box = { text: '' };
  stream?.on('data', (chunk) => {
    box.text += chunk.toString();
    if (box.text.length > limit) box.text = box.text.slice(-limit);
  });
  return box;
}

export const TIME_BIN = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

let timeFileCounter = 0;

/**
 * Runs a command to its end and times it (wall clock, from spawn to exit). With `rss: true` the
 * peak RSS is taken by GNU time (`%M`), or else by sampling /proc/PID/status VmHWM. Only the
 * last `outputLimit` characters of stdout are kept (64 KiB unless told).
 */
export async function runTimed(command, args, options = {}) {
  const { rss = false, input, workDir, outputLimit, ...spawnOptions } = options;
  let cmd = command;
  let argv = args;
  let timeFile;
  if (rss && TIME_BIN && workDir) {
    timeFile = `${workDir}/time-${process.pid}-${timeFileCounter++}.txt`;
    cmd = TIME_BIN;
    argv = ['-f', '%M %U %S', '-o', timeFile, command, ...args];
  }
  const t0 = performance.now();
  const child = start(cmd, argv, {
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    ...spawnOptions,
  });
  const out = collect(child.stdout, outputLimit);
  const err = collect(child.stderr);
  if (input !== undefined) {
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  }
  let sampled = null;
  let sampler;
  if (rss && !timeFile)
    sampler = setInterval(() => {
      const hwm = readStatusKiB(child.pid, 'VmHWM');
      if (hwm !== null) sampled = Math.max(sampled ?? 0, hwm);
    }, 10);
  const result = await exited(child);
  const ms = performance.now() - t0;
  if (sampler) clearInterval(sampler);
  let peakRssKiB = sampled;
  let cpuMs = null;
  if (timeFile) {
    try {
      const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
      const [rssText, user, system] = lines[lines.length - 1].split(' ');
      peakRssKiB = Number(rssText) || null;
      cpuMs = Math.round((Number(user) + Number(system)) * 1000);
    } catch {
      peakRssKiB = null;
    }
  }
  return {
    ms,
    code: result.code,
    signal: result.signal,
    stdout: out.text,
    stderr: err.text,
    peakRssKiB,
    cpuMs,
  };
}

/** Throws with the command's stderr unless it exited 0. */
export function check(result, what) {
  if (result.code !== 0)
    throw new Error(
      `${what} failed (exit ${result.code ?? result.signal}): ${(result.stderr || result.stdout).trim().slice(-500)}`,
    );
  return result;
}

/** Runs a short command synchronously; never throws. */
export function quiet(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 60_000, ...options });
  return {
    code: result.status ?? -1,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? String(result.error ?? ''),
  };
}

export function which(name) {
  const result = quiet('sh', ['-c', `command -v ${name}`]);
  return result.code === 0 ? result.stdout.trim() : null;
}

/* ------------------------------------------------------------------------------------------ */
/* /proc                                                                                       */
/* ------------------------------------------------------------------------------------------ */

/** A `VmXxx:   1234 kB` field of /proc/PID/status, in KiB, or null. */
export function readStatusKiB(pid, field) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Resets a process's peak RSS (VmHWM) to its current RSS; false if the kernel refused. */
export function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Total CPU time (user + system) of a process so far, in milliseconds, from /proc/PID/stat. */
export function cpuMs(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100;
  } catch {
    return null;
  }
}

function listening(port) {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/);
        if (cols[1]?.endsWith(`:${hex}`) && cols[3] === '0A') return true;
      }
    } catch {
      // no such table
    }
  }
  return false;
}

/** Waits until something listens on the local TCP port (without connecting to it). */
export async function waitListening(port, timeoutMs = 10_000, child = undefined) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (listening(port)) return;
    if (child && (child.exitCode !== null || child.signalCode !== null))
      throw new Error(
        `the process exited (${child.exitCode ?? child.signalCode}) before listening`,
      );
    await sleep(20);
  }
  throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/* ------------------------------------------------------------------------------------------ */
/* Files and machine                                                                           */
/* ------------------------------------------------------------------------------------------ */

export async function sha256File(path) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk);
  return hash.digest('hex');
}

export function freeBytes(path) {
  try {
    const s = statfsSync(path);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

export function machine() {
  const cpu = cpus();
  const git = quiet('git', ['rev-parse', '--short', 'HEAD']);
  const dirty = quiet('git', ['status', '--porcelain', '--untracked-files=no', 'src']);
  return {
    nproc: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    memoryMiB: Math.round(totalmem() / MiB),
    node: process.version,
    kernel: release(),
    os: osName(),
    commit: git.code === 0 ? git.stdout.trim() : null,
    srcModified: dirty.code === 0 ? dirty.stdout.trim().length > 0 : null,
  };
}

function osName() {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '';
  } catch {
    return '';
  }
}

/**
 * The machine's CPU time so far, in ticks of all CPUs: idle (iowait included), the time the host
 * ran something else while this virtual machine had work (steal), and the total.
 */
export function cpuTimes() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1);
  const values = line.map(Number);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { idle, steal: values[7] ?? 0, total: values.reduce((a, b) => a + b, 0) };
}

/**
 * Of the CPU time this machine had work for between two `cpuTimes()` (all but idle), the share
 * its host gave to something else (steal): a virtual machine whose host is busy runs everything
 * slower, the baselines too, which the quietness checks (this machine's own CPUs) do not see.
 */
export function stealShare(before, after = cpuTimes()) {
  const wanted = after.total - before.total - (after.idle - before.idle);
  return wanted > 0 ? (after.steal - before.steal) / wanted : 0;
}

/** Fraction of all CPUs busy over `ms` (from /proc/stat), or null where there is no /proc. */
export async function busyFraction(ms = 300) {
  try {
    const a = cpuTimes();
    await sleep(ms);
    const b = cpuTimes();
    const total = b.total - a.total;
    return total > 0 ? 1 - (b.idle - a.idle) / total : 0;
  } catch {
    return null;
  }
}

/**
 * The machine is shared: waits (up to `maxWaitMs`) until other work leaves the CPUs mostly
 * idle, so a measurement does not land in someone else's burst. Resolves with what it saw.
 */
export async function waitQuiet(maxWaitMs = 30_000, threshold = 0.3) {
  const t0 = Date.now();
  let busy = await busyFraction();
  while (busy !== null && busy > threshold && Date.now() - t0 < maxWaitMs) {
    await sleep(700);
    busy = await busyFraction();
  }
  return { waitedMs: Date.now() - t0, busy: busy === null ? null : round(busy, 2) };
}
