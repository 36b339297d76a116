#!/usr/bin/env node
/**
 * The benchmark suite of issue 5 (`npm run bench`). Every comparison runs on 127.0.0.1 only, as
 * medians of several runs, and is reported as a ratio against a baseline measured beside it in
 * the same run:
 *
 *   large     store and get of one large file (1 GiB) vs the limits: a Node pipe with 1 MiB
 *             buffers, nc with fsync, the disk's write with fsync (dd conv=fsync); the default
 *             Node pipe, vsftpd + curl and OpenSSH sftp as history. SHA-256 of every copy
 *             verified, the peak RSS of each process
 *   memory    peak RSS of the fex server and client at several file sizes (flat in the size?)
 *   many      1000 files of 1 KiB stored in one session vs vsftpd (curl's stall-free rounds, lftp
 *             mput), the FTP side's flush counted
 *   many10k   the same with 10,000 files
 *   concurrent  500 clients at once: throughput, server RSS, per-client times
 *   crowd     10,000 connected clients listening for uploads, 1,000 of them transferring at once
 *   startup   one-shot `fex dir` vs an empty oclif CLI (loading oclif as fex does) vs `node -e 0`
 *   cluster   the S3 backend vs the local one vs the AWS SDK alone, 1 vs 3 servers behind haproxy
 *             (bench/cluster.mjs; starts its own Redis and Swift, or says it skipped)
 *   profile   (--profile) `node --cpu-prof` of server and client during a large store and get
 *
 * Writes bench/results.json, bench/chart.svg and bench/results.md (or into --out DIR). A peer
 * that cannot be installed or started is reported as such; the bench itself only fails when fex
 * does. Every process it starts is stopped at the end, also on failure or Ctrl-C.
 *
 * Options (environment variables in brackets):
 *   --quick              smoke run: 64 MiB, 1 run, 100 and 200 files, 50 clients, a crowd of 100
 *                        (20 transferring), few start-up runs
 *   --size SIZE          large file size, e.g. 1GiB, 256MiB [FEX_BENCH_SIZE]
 *   --runs N             runs per comparison [FEX_BENCH_RUNS]
 *   --files N            files in the many-files comparison [FEX_BENCH_FILES]
 *   --files-large N      files in the second many-files comparison (default 10000)
 *   --clients N          concurrent clients [FEX_BENCH_CLIENTS]
 *   --crowd N            connected clients of the crowd section (default 10000)
 *   --crowd-active N     of which transferring at once (default 1000)
 *   --settle-wait S      longest wait for a quiet machine before each measurement (default 30)
 *   --skip a,b           skip sections (large, memory, many, many10k, concurrent, crowd, startup, cluster)
 *   --no-peers           measure fex and the Node pipe only (no nc, vsftpd, sshd)
 *   --no-install         never apt-get install missing peers
 *   --profile            also profile server and client with node --cpu-prof
 *   --render             only redraw chart.svg and results.md (and the targets in results.json,
 *                        and docs/performance.md's table for the default --out) from the
 *                        results.json in --out
 *   --out DIR            where results go (default: bench/)
 *   --root DIR           the fex checkout to measure (default: this repository)
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setServerGrace } from './lib/fex.mjs';
import { BENCH, REPO } from './lib/paths.mjs';
import * as peers from './lib/peers.mjs';
import { chart } from './lib/report-chart.mjs';
import { markdown, prettify, updateDocs } from './lib/report-markdown.mjs';
import { quietness } from './lib/settle.mjs';
import { targets } from './lib/targets.mjs';
import {
  cpuTimes,
  GiB,
  formatSize,
  killAllNow,
  log,
  machine,
  median,
  parseSize,
  round,
  stealShare,
  stopAll,
} from './lib/util.mjs';
import { concurrentSection } from './sections/concurrent.mjs';
import { crowdSection } from './sections/crowd.mjs';
import { largeSection } from './sections/large.mjs';
import { manySection } from './sections/many.mjs';
import { memorySection } from './sections/memory.mjs';
import { profileSection } from './sections/profile.mjs';
import { startupSection } from './sections/startup.mjs';
import { clusterSection } from './cluster.mjs';

const SECTIONS = [
  'large',
  'memory',
  'many',
  'many10k',
  'concurrent',
  'crowd',
  'startup',
  'cluster',
];

/* ------------------------------------------------------------------------------------------ */
/* Options                                                                                     */
/* ------------------------------------------------------------------------------------------ */

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      size: { type: 'string' },
      runs: { type: 'string' },
      files: { type: 'string' },
      clients: { type: 'string' },
      'files-large': { type: 'string' },
      crowd: { type: 'string' },
      'crowd-active': { type: 'string' },
      'settle-wait': { type: 'string' },
      'client-size': { type: 'string' },
      workers: { type: 'string' },
      'startup-runs': { type: 'string' },
      skip: { type: 'string', default: '' },
      'no-peers': { type: 'boolean', default: false },
      'no-install': { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      render: { type: 'boolean', default: false },
      out: { type: 'string' },
      root: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    const text = readFileSync(fileURLToPath(import.meta.url), 'utf8');
    process.stdout.write(`${/\/\*\*([\s\S]*?)\*\//.exec(text)[1].replace(/^ \* ?/gm, '')}\n`);
    process.exit(0);
  }
  const env = process.env;
  const quick = values.quick;
  const int = (text, fallback) => (text === undefined ? fallback : Math.max(1, parseInt(text, 10)));
  const skip = new Set(values.skip.split(',').filter(Boolean));
  for (const s of skip) if (!SECTIONS.includes(s)) throw new Error(`unknown section to skip: ${s}`);
  const size = parseSize(values.size ?? env.FEX_BENCH_SIZE ?? (quick ? '64MiB' : '1GiB'));
  return {
    quick,
    size,
    runs: int(values.runs ?? env.FEX_BENCH_RUNS, quick ? 1 : 5),
    files: int(values.files ?? env.FEX_BENCH_FILES, quick ? 100 : 1000),
    clients: int(values.clients ?? env.FEX_BENCH_CLIENTS, quick ? 50 : 500),
    filesLarge: int(values['files-large'], quick ? 200 : 10_000),
    crowd: int(values.crowd, quick ? 100 : 10_000),
    crowdActive: int(values['crowd-active'], quick ? 20 : 1000),
    crowdWorkers: 4,
    settleWaitMs: values['settle-wait'] === undefined ? null : Number(values['settle-wait']) * 1000,
    clientSize: parseSize(values['client-size'] ?? '64KiB'),
    workers: int(values.workers, 2),
    startupRuns: int(values['startup-runs'], quick ? 5 : 30),
    skip,
    peers: !values['no-peers'],
    install: !values['no-install'],
    profile: values.profile,
    render: values.render,
    out: resolve(values.out ?? BENCH),
    root: resolve(values.root ?? REPO),
  };
}

/* ------------------------------------------------------------------------------------------ */
/* Main                                                                                        */
/* ------------------------------------------------------------------------------------------ */

/**
 * Writes a run's results.json, chart.svg and results.md into `out`, and the generated table of
 * docs/performance.md when the run is an official one (this repository, 1 GiB, 3 rounds or more,
 * not --quick, into bench/), judged from the run's own options. Resolves with the table.
 */
async function writeReport(results, out) {
  writeFileSync(join(out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(out, 'chart.svg'), chart(results));
  const table = markdown(results);
  writeFileSync(join(out, 'results.md'), table);
  await prettify(join(out, 'results.md'));
  const o = results.options;
  const official = !o.quick && out === BENCH && o.root === REPO && o.size === GiB && o.runs >= 3;
  const doc = official && updateDocs(table);
  if (doc) {
    await prettify(doc);
    log('updated the table in docs/performance.md');
  }
  return table;
}

async function main() {
  const opts = options();
  if (opts.render) {
    const saved = JSON.parse(readFileSync(join(opts.out, 'results.json'), 'utf8'));
    // The targets are derived from the measurements, so a change in how they are read or worded
    // reaches a saved run without measuring again.
    saved.targets = targets(saved);
    await writeReport(saved, opts.out);
    log(`redrew ${join(opts.out, 'chart.svg')} and results.md`);
    return;
  }
  if (!existsSync(join(opts.root, 'dist/src/client/session.js')))
    throw new Error(`${opts.root}/dist is missing: build first (npm run build)`);
  const work = await mkdtemp(join(tmpdir(), 'fex-bench-'));
  let finished = false;
  const cleanup = async () => {
    await stopAll();
    rmSync(work, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
    process.once(sig, () => {
      log(`${sig}: stopping everything the bench started`);
      void cleanup().finally(() => process.exit(130));
    });
  process.once('exit', () => {
    if (!finished) killAllNow();
  });

  const started = performance.now();
  let ticksAtStart = null;
  try {
    ticksAtStart = cpuTimes();
  } catch {
    // No /proc: the share of CPU time the host took is not known.
  }
  // A smoke run does not wait for a quiet machine.
  if (opts.quick) quietness.maxWaitMs = 0;
  if (opts.settleWaitMs !== null) quietness.maxWaitMs = opts.settleWaitMs;
  // Nor for servers to wind down: SIGKILL after 0.5 s (every result is on disk by then).
  if (opts.quick && !opts.profile) setServerGrace(500);
  const results = {
    date: new Date().toISOString(),
    machine: machine(),
    options: {
      quick: opts.quick,
      size: opts.size,
      runs: opts.runs,
      files: opts.files,
      clients: opts.clients,
      filesLarge: opts.filesLarge,
      crowd: opts.crowd,
      crowdActive: opts.crowdActive,
      clientSize: opts.clientSize,
      workers: opts.workers,
      startupRuns: opts.startupRuns,
      skipped: [...opts.skip],
      root: opts.root,
    },
    peers: {},
  };
  try {
    log(`work dir ${work}; size ${formatSize(opts.size)}, ${opts.runs} run(s)`);
    const available = {
      nc: { available: false, reason: 'peers disabled (--no-peers)' },
      vsftpd: { available: false, reason: 'peers disabled (--no-peers)' },
      sshd: { available: false, reason: 'peers disabled (--no-peers)' },
      hyperfine: { available: false, reason: 'peers disabled (--no-peers)' },
    };
    if (opts.peers) {
      results.install = peers.install(
        ['nc', 'curl', 'lftp', 'vsftpd', 'sshd', 'sftp', 'ssh-keygen', 'hyperfine'],
        { allowed: opts.install },
      );
      available.nc = peers.netcat();
      available.hyperfine = peers.hyperfine();
      const needsFtp = ['large', 'many', 'many10k'].some((s) => !opts.skip.has(s));
      available.vsftpd = needsFtp
        ? await peers.startVsftpd(join(work, 'vsftpd'))
        : { available: false, reason: 'not needed by the sections run' };
      available.sshd = !opts.skip.has('large')
        ? await peers.startSshd(join(work, 'sshd'))
        : { available: false, reason: 'not needed by the sections run' };
    }
    for (const [name, peer] of Object.entries(available)) {
      const shown = { ...peer };
      delete shown.stop;
      results.peers[name] = shown;
      log(`peer ${name}: ${peer.available ? 'available' : `NOT available (${peer.reason})`}`);
    }

    const sections = [
      ['large', () => largeSection(opts, work, available)],
      ['memory', () => memorySection(opts, work)],
      ['many', () => manySection(opts, work, available)],
      [
        'many10k',
        () => manySection(opts, work, available, opts.filesLarge, Math.min(opts.runs, 3)),
      ],
      ['concurrent', () => concurrentSection(opts, work)],
      ['crowd', () => crowdSection(opts, work)],
      ['startup', () => startupSection(opts, work, available)],
      ['cluster', () => clusterSection(opts, work)],
    ];
    if (opts.profile) sections.push(['profile', () => profileSection(opts, work)]);
    for (const [name, run] of sections) {
      if (opts.skip.has(name)) continue;
      const t0 = performance.now();
      try {
        results[name] = await run();
      } catch (error) {
        log(`${name}: FAILED: ${error.stack ?? error}`);
        results[name] = { error: String(error.message ?? error) };
      }
      log(`${name}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    if (available.vsftpd.stop) await available.vsftpd.stop();
    if (available.sshd.stop) await available.sshd.stop();
  } finally {
    await cleanup();
  }
  results.targets = targets(results);
  results.machineLoad = {
    note: 'CPU busy fraction (all cores, other users included) seen just before measurements; the bench waits up to 30 s for it to fall under 0.3. hostStealShare: of the CPU time this virtual machine had work for during the whole run, the share its host gave to something else (steal in /proc/stat), which slows every contender alike',
    checks: quietness.checks,
    waitedS: round(quietness.waitedMs / 1000, 1),
    medianBusy: round(median(quietness.busy), 2),
    measurementsStartedBusy: quietness.stillBusy,
    hostStealShare: ticksAtStart ? round(stealShare(ticksAtStart), 3) : null,
  };
  results.durationS = round((performance.now() - started) / 1000, 1);
  mkdirSync(opts.out, { recursive: true });
  const table = await writeReport(results, opts.out);
  finished = true;
  process.stdout.write(table);
  log(`results in ${join(opts.out, 'results.json')} and chart.svg (${results.durationS} s)`);
  // fex failing is the only failure: a section with an error.
  const failed = SECTIONS.concat('profile').filter((s) => results[s]?.error);
  if (failed.length) {
    log(`sections that failed: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch(async (error) => {
  log(`bench failed: ${error.stack ?? error}`);
  await stopAll();
  process.exitCode = 1;
});
