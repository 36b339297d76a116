/**
 * Many clients at once on one server: a crowd of connected, registered clients listening for
 * upload events like idle shells, then some of them storing and fetching back a file all at
 * once. Every transfer is verified byte for byte, every idle client counts the upload events it
 * hears, and the server's RSS, CPU and open files are read from /proc.
 */
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { startServer } from '../lib/fex.mjs';
import { readProbe } from '../lib/memory-probe.mjs';
import { BENCH } from '../lib/paths.mjs';
import { settle } from '../lib/settle.mjs';
import {
  KiB,
  cpuMs,
  exited,
  formatSize,
  log,
  median,
  readStatusKiB,
  resetPeak,
  round,
  start,
} from '../lib/util.mjs';

/** The server's limit on open files and how many it has open, from /proc. */
function files(pid) {
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const m = /Max open files\s+(\d+)\s+(\d+)/.exec(limits);
  return {
    soft: m ? Number(m[1]) : null,
    hard: m ? Number(m[2]) : null,
    open: readdirSync(`/proc/${pid}/fd`).length,
  };
}

function kernelLimit(name) {
  try {
    return Number(readFileSync(`/proc/sys/${name}`, 'utf8').trim());
  } catch {
    return null;
  }
}

/** A worker process and its line-by-line conversation with the bench. */
function worker(args) {
  const child = start(process.execPath, [join(BENCH, 'crowd.mjs'), ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr = (stderr + c).slice(-4000)));
  const lines = createInterface({ input: child.stdout });
  const queue = [];
  const waiting = [];
  lines.on('line', (line) => (waiting.length ? waiting.shift().resolve(line) : queue.push(line)));
  const gone = exited(child).then(({ code }) => {
    for (const w of waiting.splice(0))
      w.reject(new Error(`crowd worker exited ${code}: ${stderr}`));
    return code;
  });
  return {
    child,
    next: () =>
      queue.length
        ? Promise.resolve(queue.shift())
        : new Promise((resolve, reject) => waiting.push({ resolve, reject })),
    send: (line) => child.stdin.write(`${line}\n`),
    gone,
  };
}

export async function crowdSection(opts, work) {
  const dir = join(work, 'crowd');
  const { crowd: total, crowdActive: active, crowdWorkers: workerCount } = opts;
  const probe = join(dir, 'memory-at-peak.json');
  const server = await startServer({
    root: opts.root,
    dir: join(dir, 'server'),
    home: join(dir, 'server-home'),
    args: ['--max-connections', String(total + 100)],
    raiseFdLimit: true,
    nodeArgs: ['--import', pathToFileURL(join(BENCH, 'lib', 'memory-probe.mjs')).href],
    env: { FEX_BENCH_MEMORY_PROBE: probe },
  });
  const serverFiles = files(server.pid);
  log(
    `crowd: ${total} clients (${active} transferring ${formatSize(opts.clientSize)} each); server may open ${serverFiles.soft} files`,
  );
  const workers = [];
  try {
    const idleRss0 = readStatusKiB(server.pid, 'VmRSS');
    const cpu0 = cpuMs(server.pid);
    const t0 = performance.now();
    const per = Math.ceil(total / workerCount);
    const activePer = Math.ceil(active / workerCount);
    for (let w = 0, first = 0, left = active; first < total; w++, first += per) {
      const count = Math.min(per, total - first);
      const mine = Math.min(activePer, left, count);
      left -= mine;
      workers.push(
        worker([
          opts.root,
          String(server.port),
          String(count),
          String(first),
          String(mine),
          String(opts.clientSize),
          'crowd',
          join(dir, `w${w}`),
        ]),
      );
    }
    for (const w of workers) if ((await w.next()) !== 'connected') throw new Error('bad worker');
    const connectMs = performance.now() - t0;
    const connectCpuMs = cpuMs(server.pid) - cpu0;
    await settle();
    const idle = {
      rssKiB: readStatusKiB(server.pid, 'VmRSS'),
      files: files(server.pid),
    };
    log(
      `crowd: all connected in ${(connectMs / 1000).toFixed(1)} s; server RSS ${round(idle.rssKiB / KiB, 0)} MiB`,
    );
    resetPeak(server.pid);
    let sampledPeak = 0;
    const sampler = setInterval(() => {
      sampledPeak = Math.max(sampledPeak, readStatusKiB(server.pid, 'VmRSS') ?? 0);
    }, 50);
    const cpu1 = cpuMs(server.pid);
    const t1 = performance.now();
    for (const w of workers) w.send('go');
    const reports = [];
    for (const w of workers) reports.push(JSON.parse(await w.next()));
    const transferMs = performance.now() - t1;
    const clients = reports.flatMap((r) => r.active);
    const ok = clients.filter((c) => c.ok);
    for (const w of workers) w.send(`drain ${ok.length}`);
    const drains = [];
    for (const w of workers) drains.push(JSON.parse(await w.next()));
    const allMs = performance.now() - t1;
    clearInterval(sampler);
    const serverCpuMs = cpuMs(server.pid) - cpu1;
    const peakKiB = readStatusKiB(server.pid, 'VmHWM') ?? sampledPeak;
    await Promise.all(workers.map((w) => w.gone));
    const atPeak = readProbe(probe);
    const times = ok.map((c) => c.ms).sort((a, b) => a - b);
    const stores = ok.map((c) => c.storeMs);
    const sum = (list, key) => list.reduce((s, r) => s + r[key], 0);
    const result = {
      clients: total,
      active,
      fileSize: opts.clientSize,
      workers: workers.length,
      connected: sum(reports, 'connected'),
      joinErrors: [...new Set(reports.flatMap((r) => r.joinErrors))].slice(0, 5),
      connectMs: round(connectMs, 1),
      connectServerCpuMs: connectCpuMs,
      transfers: { ok: ok.length, failed: clients.length - ok.length },
      errors: [...new Set(clients.filter((c) => !c.ok).map((c) => c.error))].slice(0, 5),
      transferWallMs: round(transferMs, 1),
      eventsDrainedMs: round(allMs, 1),
      perClientMs: {
        min: round(times[0], 1),
        median: round(median(times), 1),
        p95: round(times[Math.floor(times.length * 0.95)] ?? null, 1),
        max: round(times[times.length - 1], 1),
      },
      storeMedianMs: round(median(stores), 1),
      slowestVsMedian: times.length ? round(times[times.length - 1] / median(times), 3) : null,
      events: {
        received: sum(drains, 'events'),
        dropped: sum(drains, 'dropped'),
        clientsTold: sum(drains, 'clientsTold'),
        expected: sum(drains, 'expectedEvents'),
        clientsShort: sum(drains, 'clientsShortOfEvents'),
        stillConnected: sum(drains, 'stillConnected'),
      },
      server: {
        rssBeforeKiB: idleRss0,
        rssIdleKiB: idle.rssKiB,
        peakRssKiB: peakKiB,
        // What the RSS was made of at its highest, as the server itself saw it (memory-probe.mjs).
        atPeak,
        cpuMs: serverCpuMs,
        files: idle.files,
        fileLimitAtStart: serverFiles,
      },
      workerPeakRssKiB: drains.map((d) => d.maxRssKiB),
      kernel: {
        somaxconn: kernelLimit('net/core/somaxconn'),
        tcpMaxSynBacklog: kernelLimit('net/ipv4/tcp_max_syn_backlog'),
        fileMax: kernelLimit('fs/file-max'),
      },
    };
    log(`crowd: ${JSON.stringify(result)}`);
    return result;
  } finally {
    for (const w of workers) w.child.stdin.end();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
