/**
 * Many clients at once, spread over worker processes (concurrent.mjs): throughput, server RSS,
 * per-client times.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startServer } from '../lib/fex.mjs';
import { BENCH } from '../lib/paths.mjs';
import { lastJson } from '../lib/samples.mjs';
import { settle } from '../lib/settle.mjs';
import {
  MiB,
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

export async function concurrentSection(opts, work) {
  const dir = join(work, 'concurrent');
  mkdirSync(dir, { recursive: true });
  const runs = opts.quick ? 1 : Math.min(opts.runs, 3);
  const server = await startServer({
    root: opts.root,
    dir: join(dir, 'server'),
    home: join(dir, 'server-home'),
  });
  const samples = [];
  try {
    for (let rep = 1; rep <= runs; rep++) {
      log(
        `concurrent: run ${rep}/${runs} (${opts.clients} clients, ${formatSize(opts.clientSize)} each)`,
      );
      const workers = [];
      const per = Math.ceil(opts.clients / opts.workers);
      for (let w = 0, first = 0; first < opts.clients; w++, first += per) {
        const count = Math.min(per, opts.clients - first);
        const child = start(
          process.execPath,
          [
            join(BENCH, 'concurrent.mjs'),
            opts.root,
            String(server.port),
            String(count),
            String(first),
            String(opts.clientSize),
            `c${rep}`,
            join(dir, `r${rep}-w${w}`),
          ],
          { stdio: ['pipe', 'pipe', 'pipe'] },
        );
        let output = '';
        let stderr = '';
        child.stderr.on('data', (c) => (stderr += c));
        const ready = new Promise((resolveReady, reject) => {
          child.stdout.on('data', (c) => {
            output += c;
            if (output.startsWith('ready\n')) resolveReady();
          });
          void exited(child).then(({ code }) =>
            reject(new Error(`worker exited (${code}) before ready: ${stderr}`)),
          );
        });
        const finished = exited(child).then(({ code }) => {
          if (code !== 0) throw new Error(`worker exited ${code}: ${stderr.slice(-500)}`);
          return lastJson(output);
        });
        workers.push({ child, ready, finished });
      }
      await Promise.all(workers.map((w) => w.ready));
      await settle();
      const idleRss = readStatusKiB(server.pid, 'VmRSS');
      resetPeak(server.pid);
      const cpu0 = cpuMs(server.pid);
      let peakSampled = 0;
      const sampler = setInterval(() => {
        peakSampled = Math.max(peakSampled, readStatusKiB(server.pid, 'VmRSS') ?? 0);
      }, 20);
      const t0 = performance.now();
      for (const w of workers) w.child.stdin.end('go\n');
      const reports = await Promise.all(workers.map((w) => w.finished));
      const wallMs = performance.now() - t0;
      clearInterval(sampler);
      const serverCpu = cpuMs(server.pid) - cpu0;
      const hwm = readStatusKiB(server.pid, 'VmHWM');
      const clients = reports.flatMap((r) => r.clients);
      const ok = clients.filter((c) => c.ok);
      const times = ok.map((c) => c.ms).sort((a, b) => a - b);
      const bytes = reports.reduce((s, r) => s + r.bytes, 0);
      const phases = {};
      for (const phase of ['connect', 'register', 'store', 'get', 'leave'])
        phases[phase] = round(median(ok.map((c) => c.phases[phase])), 1);
      samples.push({
        wallMs,
        clients: clients.length,
        ok: ok.length,
        failed: clients.length - ok.length,
        errors: [...new Set(clients.filter((c) => !c.ok).map((c) => c.error))].slice(0, 5),
        bytes,
        mibPerS: round(bytes / MiB / (wallMs / 1000), 2),
        transfersPerS: round((ok.length * 2) / (wallMs / 1000), 1),
        perClientMs: {
          min: round(times[0], 1),
          median: round(median(times), 1),
          p95: round(times[Math.floor(times.length * 0.95)] ?? null, 1),
          max: round(times[times.length - 1], 1),
        },
        lastClientFinishedMs: round(Math.max(...ok.map((c) => c.end)), 1),
        phaseMediansMs: phases,
        serverIdleRssKiB: idleRss,
        serverPeakRssKiB: hwm ?? peakSampled,
        serverCpuMs: serverCpu,
        workerPeakRssKiB: reports.map((r) => r.maxRssKiB),
      });
      log(`concurrent: ${JSON.stringify(samples[samples.length - 1])}`);
      for (let w = 0; w < workers.length; w++)
        rmSync(join(dir, `r${rep}-w${w}`), { recursive: true, force: true });
    }
  } finally {
    await server.stop();
  }
  const pick = (fn) => round(median(samples.map(fn)), 1);
  return {
    clients: opts.clients,
    fileSize: opts.clientSize,
    workers: opts.workers,
    runs,
    medians: {
      wallMs: pick((s) => s.wallMs),
      mibPerS: pick((s) => s.mibPerS),
      transfersPerS: pick((s) => s.transfersPerS),
      perClientMinMs: pick((s) => s.perClientMs.min),
      perClientMedianMs: pick((s) => s.perClientMs.median),
      perClientMaxMs: pick((s) => s.perClientMs.max),
      serverPeakRssKiB: pick((s) => s.serverPeakRssKiB),
      serverIdleRssKiB: pick((s) => s.serverIdleRssKiB),
      failed: Math.max(...samples.map((s) => s.failed)),
    },
    samples,
  };
}
