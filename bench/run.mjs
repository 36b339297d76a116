#!/usr/bin/env node
/**
 * The benchmark suite of issue 5 (`npm run bench`). Every comparison runs on 127.0.0.1 only, as
 * medians of several runs, and is reported as a ratio against a baseline measured beside it in
 * the same run:
 *
 *   large     store and get of one large file (1 GiB) vs a bare Node pipe, nc, vsftpd + curl and
 *             OpenSSH sftp, with every copy's SHA-256 verified and the peak RSS of each process
 *   memory    peak RSS of the fex server and client at several file sizes (flat in the size?)
 *   many      1000 files of 1 KiB stored in one session vs one curl session on vsftpd
 *   concurrent  500 clients at once: throughput, server RSS, per-client times
 *   startup   one-shot `fex dir` vs an empty oclif CLI vs `node -e 0`
 *   profile   (--profile) `node --cpu-prof` of server and client during a large store and get
 *
 * Writes bench/results.json, bench/chart.svg and bench/results.md (or into --out DIR). A peer
 * that cannot be installed or started is reported as such; the bench itself only fails when fex
 * does. Every process it starts is stopped at the end, also on failure or Ctrl-C.
 *
 * Options (environment variables in brackets):
 *   --quick              smoke run: 64 MiB, 1 run, 100 files, 50 clients, few start-up runs
 *   --size SIZE          large file size, e.g. 1GiB, 256MiB [FEX_BENCH_SIZE]
 *   --runs N             runs per comparison [FEX_BENCH_RUNS]
 *   --files N            files in the many-files comparison [FEX_BENCH_FILES]
 *   --clients N          concurrent clients [FEX_BENCH_CLIENTS]
 *   --skip a,b           skip sections (large, memory, many, concurrent, startup)
 *   --no-peers           measure fex and the Node pipe only (no nc, vsftpd, sshd)
 *   --no-install         never apt-get install missing peers
 *   --profile            also profile server and client with node --cpu-prof
 *   --render             only redraw chart.svg and results.md from the results.json in --out
 *   --out DIR            where results go (default: bench/)
 *   --root DIR           the fex checkout to measure (default: this repository)
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  createWriteStream,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { drawChart } from './lib/chart.mjs';
import { timeInterleaved } from './lib/interleaved.mjs';
import { fexEnv, hasShell, register, runFex, setServerGrace, startServer } from './lib/fex.mjs';
import * as peers from './lib/peers.mjs';
import {
  GiB,
  KiB,
  MiB,
  check,
  cpuMs,
  exited,
  formatSize,
  freeBytes,
  freePort,
  killAllNow,
  log,
  machine,
  median,
  parseSize,
  quiet,
  ratio,
  readStatusKiB,
  resetPeak,
  round,
  runTimed,
  sha256File,
  sleep,
  start,
  stopAll,
  waitListening,
  waitQuiet,
} from './lib/util.mjs';
import { summarize } from './profile-summary.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(BENCH, '..');
const SECTIONS = ['large', 'memory', 'many', 'concurrent', 'startup'];

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
/* Helpers                                                                                     */
/* ------------------------------------------------------------------------------------------ */

const quietness = { maxWaitMs: 30_000, checks: 0, waitedMs: 0, stillBusy: 0, busy: [] };

/**
 * Lets the machine settle between measurements: flushes other dirty pages, pauses, and waits
 * (bounded) for other users' CPU bursts to pass. How long it waited is part of the results.
 */
async function settle(ms = 300) {
  if (quietness.maxWaitMs === 0) return sleep(20);
  quiet('sync', []);
  await sleep(ms);
  const seen = await waitQuiet(quietness.maxWaitMs);
  quietness.checks++;
  quietness.waitedMs += seen.waitedMs;
  if (seen.busy !== null) quietness.busy.push(seen.busy);
  if (seen.busy !== null && seen.busy > 0.3) quietness.stillBusy++;
}

/** Writes `size` random bytes to `path`; resolves with nothing (hash it separately). */
async function makeRandomFile(path, size) {
  const out = createWriteStream(path);
  const chunk = 4 * MiB;
  for (let left = size; left > 0; left -= chunk) {
    if (!out.write(randomBytes(Math.min(chunk, left))))
      await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r, j) => out.end((e) => (e ? j(e) : r())));
}

async function verify(path, expected) {
  const actual = await sha256File(path);
  if (actual !== expected) throw new Error(`${path}: SHA-256 differs from the source`);
  return true;
}

function lastJson(text) {
  const line = text
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  return line ? JSON.parse(line) : {};
}

function summary(samples) {
  const ms = samples.map((s) => s.ms);
  return {
    runs: samples.length,
    medianMs: round(median(ms), 1),
    minMs: round(Math.min(...ms), 1),
    maxMs: round(Math.max(...ms), 1),
    timesMs: ms.map((v) => round(v, 1)),
    ...Object.fromEntries(
      ['clientPeakRssKiB', 'serverPeakRssKiB', 'clientCpuMs', 'serverCpuMs', 'rawMs', 'syncMs']
        .filter((key) => samples.some((s) => s[key] !== undefined && s[key] !== null))
        .map((key) => [key, round(median(samples.map((s) => s[key])), 1)]),
    ),
  };
}

/** Starts one role of pipe-baseline.mjs that listens, and resolves once it printed its port. */
async function startPipeServer(role, path) {
  const child = start(process.execPath, [join(BENCH, 'pipe-baseline.mjs'), role, '0', path], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise((resolvePort, reject) => {
    lines.on('line', (line) => {
      output += `${line}\n`;
      const m = /^ready (\d+)$/.exec(line);
      if (m) resolvePort(Number(m[1]));
    });
    void exited(child).then(({ code }) => reject(new Error(`${role} exited early (${code})`)));
  });
  const done = exited(child).then((result) => ({ ...result, report: lastJson(output) }));
  return { child, port, done };
}

/* ------------------------------------------------------------------------------------------ */
/* 1. Large file                                                                               */
/* ------------------------------------------------------------------------------------------ */

async function largeSection(opts, work, available) {
  const dir = join(work, 'large');
  mkdirSync(join(dir, 'names'), { recursive: true });
  const need = opts.size * 3 + GiB;
  const free = freeBytes(work);
  if (free !== null && free < need)
    throw new Error(`needs ${formatSize(need)} free in ${work}, has ${formatSize(free)}`);
  const src = join(dir, 'source.bin');
  log(`large: writing a ${formatSize(opts.size)} random file`);
  await makeRandomFile(src, opts.size);
  const srcSha = await sha256File(src);

  const server = await startServer({
    root: opts.root,
    dir: join(dir, 'server'),
    home: join(dir, 'server-home'),
  });
  const clientHome = join(dir, 'client-home');
  await register(opts.root, server, clientHome, 'bench');
  const canResetPeak = resetPeak(server.pid);
  const samples = {};
  const add = (name, sample) => {
    (samples[name] ??= []).push(sample);
    log(`large: ${name} ${(sample.ms / 1000).toFixed(2)} s`);
  };
  const out = join(dir, 'received.bin');
  const clean = (...paths) => paths.forEach((p) => rmSync(p, { force: true }));
  const timedFex = async (args) => {
    resetPeak(server.pid);
    const cpu0 = cpuMs(server.pid);
    const result = check(
      await runFex(opts.root, args, { home: clientHome, rss: true, workDir: dir }),
      `fex ${args[0]}`,
    );
    return {
      ms: result.ms,
      clientPeakRssKiB: result.peakRssKiB,
      serverPeakRssKiB: readStatusKiB(server.pid, 'VmHWM'),
      clientCpuMs: result.cpuMs,
      serverCpuMs: cpuMs(server.pid) - cpu0,
    };
  };

  const steps = {
    async pipeStore() {
      const receiver = await startPipeServer('recv-server', out);
      const result = check(
        await runTimed(
          process.execPath,
          [join(BENCH, 'pipe-baseline.mjs'), 'send-client', String(receiver.port), src],
          { rss: true, workDir: dir },
        ),
        'node pipe (send)',
      );
      const { report } = await receiver.done;
      await verify(out, srcSha);
      clean(out);
      add('node pipe store', {
        ms: result.ms,
        clientPeakRssKiB: result.peakRssKiB,
        serverPeakRssKiB: report.maxRssKiB,
        clientCpuMs: result.cpuMs,
        serverCpuMs: report.cpuMs,
      });
    },
    async pipeGet() {
      const sender = await startPipeServer('send-server', src);
      const result = check(
        await runTimed(
          process.execPath,
          [join(BENCH, 'pipe-baseline.mjs'), 'recv-client', String(sender.port), out],
          { rss: true, workDir: dir },
        ),
        'node pipe (receive)',
      );
      const { report } = await sender.done;
      await verify(out, srcSha);
      clean(out);
      add('node pipe get', {
        ms: result.ms,
        clientPeakRssKiB: result.peakRssKiB,
        serverPeakRssKiB: report.maxRssKiB,
        clientCpuMs: result.cpuMs,
        serverCpuMs: report.cpuMs,
      });
    },
    async fexStore(rep) {
      const name = `big-${rep}.bin`;
      const path = join(dir, 'names', name);
      linkSync(src, path);
      add('fex store', await timedFex(['store', path, '--server', server.address]));
      clean(path);
      await verify(join(server.dir, name), srcSha);
    },
    async fexGet(rep) {
      const name = `big-${rep}.bin`;
      add('fex get', await timedFex(['get', name, '-o', out, '--server', server.address]));
      await verify(out, srcSha);
      // The server's copy goes too, behind its back: disk space is limited and names are unique.
      clean(out, join(server.dir, name));
    },
    async nc() {
      if (!available.nc.available) return;
      const port = await freePort();
      const outFd = openSync(out, 'w');
      const inFd = openSync(src, 'r');
      try {
        const receiver = start(available.nc.path, ['-l', '127.0.0.1', String(port)], {
          stdio: ['ignore', outFd, 'pipe'],
        });
        await waitListening(port, 10_000, receiver);
        const t0 = performance.now();
        const sender = start(available.nc.path, ['-N', '127.0.0.1', String(port)], {
          stdio: [inFd, 'ignore', 'pipe'],
        });
        const [r, s] = await Promise.all([exited(receiver), exited(sender)]);
        if (r.code !== 0 || s.code !== 0) throw new Error(`nc exited ${r.code}/${s.code}`);
        fsyncSync(outFd);
        add('nc', { ms: performance.now() - t0 });
      } finally {
        closeSync(outFd);
        closeSync(inFd);
      }
      await verify(out, srcSha);
      clean(out);
    },
    async ftpStore(rep) {
      const ftp = available.vsftpd;
      if (!ftp.available) return;
      const name = `big-${rep}.bin`;
      const result = check(
        await runTimed(ftp.curl, ['-sS', '-T', src, `${ftp.url}/${name}`], {
          rss: true,
          workDir: dir,
        }),
        'curl upload',
      );
      const t0 = performance.now();
      const fd = openSync(join(ftp.upDir, name), 'r');
      fsyncSync(fd);
      closeSync(fd);
      const syncMs = performance.now() - t0;
      add('vsftpd+curl store', {
        ms: result.ms + syncMs,
        rawMs: result.ms,
        syncMs,
        clientPeakRssKiB: result.peakRssKiB,
      });
      await verify(join(ftp.upDir, name), srcSha);
    },
    async ftpGet(rep) {
      const ftp = available.vsftpd;
      if (!ftp.available) return;
      const name = `big-${rep}.bin`;
      const result = check(
        await runTimed(ftp.curl, ['-sS', '-o', out, `${ftp.url}/${name}`], {
          rss: true,
          workDir: dir,
        }),
        'curl download',
      );
      const t0 = performance.now();
      const fd = openSync(out, 'r');
      fsyncSync(fd);
      closeSync(fd);
      const syncMs = performance.now() - t0;
      add('vsftpd+curl get', {
        ms: result.ms + syncMs,
        rawMs: result.ms,
        syncMs,
        clientPeakRssKiB: result.peakRssKiB,
      });
      await verify(out, srcSha);
      clean(out, join(ftp.upDir, name));
    },
    async sftpPut() {
      const ssh = available.sshd;
      if (!ssh.available) return;
      const batch = join(dir, 'put.batch');
      writeFileSync(batch, `put -f ${src} ${out}\n`);
      const result = check(
        await runTimed(ssh.sftp, [...ssh.args, '-b', batch, ssh.target], {
          rss: true,
          workDir: dir,
        }),
        'sftp put',
      );
      add('sftp put', { ms: result.ms, clientPeakRssKiB: result.peakRssKiB });
      await verify(out, srcSha);
    },
    async sftpGet() {
      const ssh = available.sshd;
      if (!ssh.available) return;
      const got = join(dir, 'sftp-got.bin');
      const batch = join(dir, 'get.batch');
      writeFileSync(batch, `get -f ${out} ${got}\n`);
      const result = check(
        await runTimed(ssh.sftp, [...ssh.args, '-b', batch, ssh.target], {
          rss: true,
          workDir: dir,
        }),
        'sftp get',
      );
      add('sftp get', { ms: result.ms, clientPeakRssKiB: result.peakRssKiB });
      await verify(got, srcSha);
      clean(out, got);
    },
  };

  try {
    for (let rep = 1; rep <= opts.runs; rep++) {
      log(`large: run ${rep}/${opts.runs}`);
      // fex and its pipe run back to back; which goes first alternates between runs.
      const order =
        rep % 2
          ? ['pipeStore', 'fexStore', 'pipeGet', 'fexGet']
          : ['fexStore', 'pipeStore', 'fexGet', 'pipeGet'];
      for (const step of [...order, 'nc', 'ftpStore', 'ftpGet', 'sftpPut', 'sftpGet']) {
        await settle();
        await steps[step](rep);
      }
    }
  } finally {
    await server.stop();
    rmSync(src, { force: true });
  }

  const results = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summary(v)]));
  const m = (name) => results[name]?.medianMs;
  const mbps = (name) => (m(name) ? round(opts.size / MiB / (m(name) / 1000), 1) : null);
  for (const [name, r] of Object.entries(results)) r.mibPerS = mbps(name);
  return {
    size: opts.size,
    sizeText: formatSize(opts.size),
    runs: opts.runs,
    checksumsVerified: true,
    serverPeakResettable: canResetPeak,
    results,
    ratios: {
      storeVsPipe: ratio(m('fex store'), m('node pipe store')),
      getVsPipe: ratio(m('fex get'), m('node pipe get')),
      storeVsNc: ratio(m('fex store'), m('nc')),
      getVsNc: ratio(m('fex get'), m('nc')),
      storeVsFtp: ratio(m('fex store'), m('vsftpd+curl store')),
      getVsFtp: ratio(m('fex get'), m('vsftpd+curl get')),
      storeVsSftp: ratio(m('fex store'), m('sftp put')),
      getVsSftp: ratio(m('fex get'), m('sftp get')),
    },
  };
}

/* ------------------------------------------------------------------------------------------ */
/* 2. Memory in the file size                                                                  */
/* ------------------------------------------------------------------------------------------ */

async function memorySection(opts, work) {
  const dir = join(work, 'memory');
  mkdirSync(dir, { recursive: true });
  const sizes = [...new Set([opts.size / 16, opts.size / 4, opts.size].map(Math.floor))].filter(
    (s) => s >= MiB,
  );
  const rows = [];
  for (const size of sizes) {
    // A fresh server per size: its peak RSS is then that of this size alone, reset or not.
    const server = await startServer({
      root: opts.root,
      dir: join(dir, 'server'),
      home: join(dir, 'server-home'),
    });
    try {
      const home = join(dir, 'client-home');
      await register(opts.root, server, home, `mem${size}`);
      const name = `mem-${size}.bin`;
      const src = join(dir, name);
      await makeRandomFile(src, size);
      const idle = readStatusKiB(server.pid, 'VmRSS');
      resetPeak(server.pid);
      const stored = check(
        await runFex(opts.root, ['store', src, '--server', server.address], {
          home,
          rss: true,
          workDir: dir,
        }),
        'fex store',
      );
      const serverStore = readStatusKiB(server.pid, 'VmHWM');
      rmSync(src);
      resetPeak(server.pid);
      const got = check(
        await runFex(
          opts.root,
          ['get', name, '-o', join(dir, 'got.bin'), '--server', server.address],
          {
            home,
            rss: true,
            workDir: dir,
          },
        ),
        'fex get',
      );
      const serverGet = readStatusKiB(server.pid, 'VmHWM');
      rows.push({
        size,
        sizeText: formatSize(size),
        serverIdleRssKiB: idle,
        serverStorePeakKiB: serverStore,
        serverGetPeakKiB: serverGet,
        clientStorePeakKiB: stored.peakRssKiB,
        clientGetPeakKiB: got.peakRssKiB,
      });
      log(`memory: ${formatSize(size)} -> ${JSON.stringify(rows[rows.length - 1])}`);
    } finally {
      await server.stop();
      rmSync(join(dir, 'server'), { recursive: true, force: true });
      rmSync(join(dir, 'got.bin'), { force: true });
    }
  }
  const peaks = (key) => rows.map((r) => r[key]).filter(Boolean);
  const spread = (key) => {
    const v = peaks(key);
    return v.length ? round(Math.max(...v) / Math.min(...v), 2) : null;
  };
  return {
    sizes: rows,
    growth: {
      note: 'largest / smallest peak RSS across the sizes (1.0 = perfectly flat)',
      serverStore: spread('serverStorePeakKiB'),
      serverGet: spread('serverGetPeakKiB'),
      clientStore: spread('clientStorePeakKiB'),
      clientGet: spread('clientGetPeakKiB'),
    },
  };
}

/* ------------------------------------------------------------------------------------------ */
/* 3. Many small files in one session                                                          */
/* ------------------------------------------------------------------------------------------ */

async function manySection(opts, work, available) {
  const dir = join(work, 'many');
  mkdirSync(dir, { recursive: true });
  // One server per fex variant: each stores the same names, and a name belongs to its owner.
  const servers = {};
  const serverFor = async (label) =>
    (servers[label] ??= await startServer({
      root: opts.root,
      dir: join(dir, `server-${Object.keys(servers).length}`),
      home: join(dir, 'server-home'),
    }));
  const home = join(dir, 'client-home');
  const shell = await hasShell(opts.root, home);
  log(`many: fex shell ${shell ? 'exists' : 'does not exist yet; using the Session API'}`);
  const samples = {};
  const add = (name, sample) => (samples[name] ??= []).push(sample);
  const ftp = available.vsftpd;
  try {
    for (let rep = 1; rep <= opts.runs; rep++) {
      log(`many: run ${rep}/${opts.runs} (${opts.files} files of 1 KiB)`);
      const files = join(dir, `r${rep}`);
      mkdirSync(files);
      const names = [];
      const contents = new Map();
      for (let i = 1; i <= opts.files; i++) {
        const name = `r${rep}-f${String(i).padStart(4, '0')}.txt`;
        const content = randomBytes(KiB);
        writeFileSync(join(files, name), content);
        names.push(name);
        contents.set(name, content);
      }
      const checkAll = (where, label) => {
        for (const name of names) {
          const path = join(where, name);
          if (!existsSync(path) || !readFileSync(path).equals(contents.get(name)))
            throw new Error(`${label}: ${name} missing or different`);
        }
      };
      const removeAll = (where) => names.forEach((n) => rmSync(join(where, n), { force: true }));
      const variants = [];
      if (shell)
        variants.push([
          'fex shell (piped)',
          async () => {
            const server = await serverFor('shell');
            const script = [
              `/join 127.0.0.1 ${server.port}`,
              `/register shell${rep}`,
              ...names.map((n) => `/store ${n}`),
              '/leave',
              '',
            ].join('\n');
            const result = check(
              await runFex(opts.root, [], {
                home: join(dir, `shell-home-${rep}`),
                cwd: files,
                input: script,
              }),
              'fex shell',
            );
            const uploaded = result.stdout.split('\n').filter((l) => / Uploaded /.test(l)).length;
            if (uploaded !== names.length)
              throw new Error(
                `fex shell printed ${uploaded} upload lines for ${names.length} files`,
              );
            return { ms: result.ms };
          },
        ]);
      variants.push([
        'fex Session API (1 process)',
        async () => {
          const server = await serverFor('api');
          const result = check(
            await runTimed(process.execPath, [
              join(BENCH, 'many-files.mjs'),
              opts.root,
              String(server.port),
              `api${rep}`,
              files,
            ]),
            'many-files.mjs',
          );
          return { ms: result.ms };
        },
      ]);
      if (ftp.available)
        variants.push([
          'vsftpd+curl (1 session)',
          async () => {
            const result = check(
              await runTimed(
                ftp.curl,
                [
                  '-sS',
                  '--ftp-create-dirs',
                  '-T',
                  `{${names.join(',')}}`,
                  `${ftp.url}/many-${rep}/`,
                ],
                { cwd: files },
              ),
              'curl -T {...}',
            );
            // Not part of the target's baseline: what flushing those files afterwards costs.
            const t0 = performance.now();
            quiet('sync', ['-f', join(ftp.upDir, `many-${rep}`)]);
            return { ms: result.ms, syncMs: performance.now() - t0 };
          },
        ]);
      // Alternate the order between runs so no contender always goes first.
      if (rep % 2 === 0) variants.reverse();
      for (const [label, run] of variants) {
        await settle();
        const sample = await run();
        add(label, sample);
        if (label.startsWith('fex')) {
          const server = await serverFor(label.includes('shell') ? 'shell' : 'api');
          checkAll(server.dir, label);
          removeAll(server.dir);
        } else {
          checkAll(join(ftp.upDir, `many-${rep}`), label);
          rmSync(join(ftp.upDir, `many-${rep}`), { recursive: true, force: true });
        }
      }
      rmSync(files, { recursive: true, force: true });
    }
  } finally {
    for (const server of Object.values(servers)) await server.stop();
  }
  const results = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summary(v)]));
  const fexLabel = shell ? 'fex shell (piped)' : 'fex Session API (1 process)';
  const ftpMs = results['vsftpd+curl (1 session)']?.medianMs;
  for (const r of Object.values(results))
    r.filesPerS = r.medianMs ? round(opts.files / (r.medianMs / 1000), 1) : null;
  return {
    files: opts.files,
    fileSize: KiB,
    runs: opts.runs,
    shellAvailable: shell,
    fexVariant: fexLabel,
    results,
    ratios: {
      fexVsFtp: ratio(results[fexLabel]?.medianMs, ftpMs),
      fexVsFtpThenSync: ratio(
        results[fexLabel]?.medianMs,
        ftpMs && ftpMs + results['vsftpd+curl (1 session)'].syncMs,
      ),
    },
  };
}

/* ------------------------------------------------------------------------------------------ */
/* 4. Many clients at once                                                                     */
/* ------------------------------------------------------------------------------------------ */

async function concurrentSection(opts, work) {
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

/* ------------------------------------------------------------------------------------------ */
/* 5. Start-up                                                                                 */
/* ------------------------------------------------------------------------------------------ */

async function startupSection(opts, work, available) {
  const dir = join(work, 'startup');
  mkdirSync(dir, { recursive: true });
  const server = await startServer({
    root: opts.root,
    dir: join(dir, 'server'),
    home: join(dir, 'server-home'),
  });
  const home = join(dir, 'client-home');
  try {
    await register(opts.root, server, home, 'startup');
    for (const name of ['a.txt', 'b.txt', 'c.txt']) {
      writeFileSync(join(dir, name), `${name}\n`);
      check(
        await runFex(opts.root, ['store', join(dir, name), '--server', server.address], { home }),
        'fex store',
      );
    }
    const node = process.execPath;
    const commands = [
      [
        'fex dir (one-shot)',
        [node, join(opts.root, 'bin/run.js'), 'dir', '--server', server.address],
      ],
      ['empty oclif CLI', [node, join(BENCH, 'empty-cli/bin/run.mjs'), 'hello']],
      ['node -e 0', [node, '-e', '0']],
    ];
    await settle();
    const { tool, results } = await timeInterleaved(commands, {
      rounds: opts.startupRuns,
      warmups: 3,
      env: fexEnv(home),
      dir,
      hyperfine: available.hyperfine,
    });
    const m = (label) => results[label]?.medianMs;
    return {
      tool,
      runs: opts.startupRuns,
      commands: Object.fromEntries(commands.map(([label, argv]) => [label, argv.join(' ')])),
      results,
      ratios: {
        fexDirVsEmptyOclif: ratio(m('fex dir (one-shot)'), m('empty oclif CLI')),
        emptyOclifVsNode: ratio(m('empty oclif CLI'), m('node -e 0')),
      },
    };
  } finally {
    await server.stop();
  }
}

/* ------------------------------------------------------------------------------------------ */
/* 6. Profile                                                                                  */
/* ------------------------------------------------------------------------------------------ */

async function profileSection(opts, work) {
  const dir = join(work, 'profile');
  mkdirSync(dir, { recursive: true });
  const src = join(dir, 'profiled.bin');
  await makeRandomFile(src, opts.size);
  const out = {};
  for (const op of ['store', 'get']) {
    const serverProf = join(dir, `server-${op}`);
    const clientProf = join(dir, `client-${op}`);
    const server = await startServer({
      root: opts.root,
      dir: join(dir, `files-${op}`),
      home: join(dir, 'server-home'),
      nodeArgs: op === 'get' ? [] : ['--cpu-prof', '--cpu-prof-dir', serverProf],
    });
    const home = join(dir, `client-home-${op}`);
    try {
      await register(opts.root, server, home, `prof${op}`);
      if (op === 'get') {
        // Store unprofiled, then restart the server under the profiler for the get alone.
        check(
          await runFex(opts.root, ['store', src, '--server', server.address], { home }),
          'store',
        );
      }
    } finally {
      if (op === 'get') await server.stop();
    }
    const profiled =
      op === 'get'
        ? await startServer({
            root: opts.root,
            dir: join(dir, `files-${op}`),
            home: join(dir, 'server-home'),
            nodeArgs: ['--cpu-prof', '--cpu-prof-dir', serverProf],
          })
        : server;
    try {
      log(`profile: ${op} of ${formatSize(opts.size)} under --cpu-prof`);
      const args =
        op === 'store'
          ? ['store', src, '--server', profiled.address]
          : // A new port is a new server to the client: a second handle claims itself there.
            [
              'get',
              'profiled.bin',
              '-o',
              join(dir, 'got.bin'),
              '--server',
              profiled.address,
              '--handle',
              'profget2',
            ];
      const result = check(
        await runTimed(
          process.execPath,
          ['--cpu-prof', '--cpu-prof-dir', clientProf, join(opts.root, 'bin/run.js'), ...args],
          { env: fexEnv(home), cwd: home },
        ),
        `profiled ${op}`,
      );
      out[op] = { ms: round(result.ms, 1) };
    } finally {
      await profiled.stop();
    }
    const first = (d) =>
      existsSync(d) ? readdirSync(d).find((f) => f.endsWith('.cpuprofile')) : undefined;
    for (const [side, d] of [
      ['server', serverProf],
      ['client', clientProf],
    ]) {
      const file = first(d);
      out[op][side] = file ? summarize(join(d, file), 12) : { error: 'no profile written' };
    }
    rmSync(join(dir, 'got.bin'), { force: true });
  }
  rmSync(src, { force: true });
  return { size: opts.size, sizeText: formatSize(opts.size), ...out };
}

/* ------------------------------------------------------------------------------------------ */
/* Report                                                                                      */
/* ------------------------------------------------------------------------------------------ */

function targets(results) {
  const list = [];
  const { large, many, concurrent, startup } = results;
  if (large && !large.error) {
    for (const [op, key] of [
      ['store', 'storeVsPipe'],
      ['get', 'getVsPipe'],
    ])
      list.push({
        target: `${op} of ${large.sizeText}: at most 1.1x the bare Node pipe`,
        measured: large.ratios[key],
        met: large.ratios[key] !== null ? large.ratios[key] <= 1.1 : null,
      });
    const growth = results.memory?.growth;
    if (growth) {
      const worst = Math.max(
        ...['serverStore', 'serverGet', 'clientStore', 'clientGet'].map((k) => growth[k] ?? 0),
      );
      list.push({
        target: 'memory of server and client flat in the file size',
        measured: worst,
        met: worst <= 1.25,
        note: 'largest/smallest peak RSS across sizes; "flat" taken as at most 1.25x',
      });
    }
  }
  if (many && !many.error)
    list.push({
      target: `${many.files} files of 1 KiB in one session: faster than one curl session on vsftpd`,
      measured: many.ratios.fexVsFtp,
      met: many.ratios.fexVsFtp !== null ? many.ratios.fexVsFtp < 1 : null,
      note: many.shellAvailable
        ? 'fex shell, piped'
        : 'fex shell missing: Session API in one process',
    });
  if (concurrent && !concurrent.error)
    list.push({
      target: `${concurrent.clients} concurrent clients: throughput and server RSS reported, no client starves`,
      measured: concurrent.medians.perClientMaxMs,
      met: concurrent.medians.failed === 0,
      note: `all clients finished and verified; per-client max ${concurrent.medians.perClientMaxMs} ms vs median ${concurrent.medians.perClientMedianMs} ms`,
    });
  if (startup && !startup.error)
    list.push({
      target: 'one-shot fex dir: at most 1.2x an empty oclif CLI',
      measured: startup.ratios.fexDirVsEmptyOclif,
      met:
        startup.ratios.fexDirVsEmptyOclif !== null
          ? startup.ratios.fexDirVsEmptyOclif <= 1.2
          : null,
    });
  return list;
}

/** A ratio for a title: two decimals, or ? when it could not be measured. */
function x2(value) {
  return typeof value === 'number' ? value.toFixed(2) : '?';
}

function chart(results) {
  const panels = [];
  const { large, many, startup, concurrent, memory } = results;
  const unavailable = (name) => {
    const peer = results.peers?.[name];
    return peer && !peer.available ? `not run: ${peer.reason}` : 'not run';
  };
  if (large && !large.error) {
    const r = large.results;
    const s = (name) => (r[name]?.medianMs ?? null) && r[name].medianMs / 1000;
    for (const [op, fex, pipe, ftp, sftp] of [
      ['Store', 'fex store', 'node pipe store', 'vsftpd+curl store', 'sftp put'],
      ['Get', 'fex get', 'node pipe get', 'vsftpd+curl get', 'sftp get'],
    ])
      panels.push({
        title: `${op} ${large.sizeText} (median of ${large.runs}; fex ${x2(
          large.ratios[op === 'Store' ? 'storeVsPipe' : 'getVsPipe'],
        )}x the Node pipe)`,
        unit: 'seconds, lower is better',
        bars: [
          { label: fex, value: s(fex), fex: true },
          { label: 'bare Node pipe (fsync)', value: s(pipe) },
          { label: 'nc (+fsync)', value: s('nc'), note: s('nc') ? '' : unavailable('nc') },
          {
            label: `vsftpd + curl (+fsync)`,
            value: s(ftp),
            note: s(ftp) ? '' : unavailable('vsftpd'),
          },
          { label: `OpenSSH ${sftp} -f`, value: s(sftp), note: s(sftp) ? '' : unavailable('sshd') },
        ],
        target: s(pipe) ? { value: s(pipe) * 1.1, label: 'target: 1.1x pipe' } : undefined,
      });
  }
  if (memory && !memory.error && memory.sizes.length) {
    const bars = [];
    for (const row of memory.sizes) {
      bars.push({
        label: `server, store ${row.sizeText}`,
        value: row.serverStorePeakKiB / KiB,
        fex: true,
      });
      bars.push({
        label: `client, store ${row.sizeText}`,
        value: row.clientStorePeakKiB / KiB,
        fex: true,
      });
    }
    const pipe = large?.results?.['node pipe store'];
    if (pipe?.clientPeakRssKiB)
      bars.push({
        label: `Node pipe sender, ${large.sizeText}`,
        value: pipe.clientPeakRssKiB / KiB,
      });
    panels.push({ title: 'Peak RSS by file size', unit: 'MiB, lower is better', digits: 0, bars });
  }
  if (many && !many.error) {
    const r = many.results;
    const bars = Object.entries(r).map(([label, v]) => ({
      label,
      value: v.medianMs / 1000,
      fex: label.startsWith('fex'),
    }));
    if (!r['vsftpd+curl (1 session)'])
      bars.push({ label: 'vsftpd+curl (1 session)', value: null, note: unavailable('vsftpd') });
    panels.push({
      title: `${many.files} files of 1 KiB in one session (fex ${x2(many.ratios.fexVsFtp)}x curl)`,
      unit: 'seconds, start-up included',
      bars,
    });
  }
  if (startup && !startup.error) {
    const r = startup.results;
    const empty = r['empty oclif CLI']?.medianMs;
    panels.push({
      title: `Start-up (fex dir ${x2(startup.ratios.fexDirVsEmptyOclif)}x an empty oclif CLI)`,
      unit: 'milliseconds, median',
      digits: 0,
      bars: Object.entries(r).map(([label, v]) => ({
        label,
        value: v.medianMs,
        fex: label.startsWith('fex'),
      })),
      target: empty ? { value: empty * 1.2, label: 'target: 1.2x empty oclif' } : undefined,
    });
  }
  if (concurrent && !concurrent.error) {
    const m = concurrent.medians;
    panels.push({
      title: `${concurrent.clients} concurrent clients, ${formatSize(concurrent.fileSize)} each (${m.mibPerS} MiB/s, server peak ${Math.round(m.serverPeakRssKiB / KiB)} MiB)`,
      unit: 'ms per client (connect to verified)',
      digits: 0,
      bars: [
        { label: 'fastest client', value: m.perClientMinMs, fex: true },
        { label: 'median client', value: m.perClientMedianMs, fex: true },
        { label: 'slowest client', value: m.perClientMaxMs, fex: true },
        { label: 'whole run (wall)', value: m.wallMs },
      ],
    });
  }
  const mach = results.machine;
  return drawChart({
    title: 'fex vs its baselines on 127.0.0.1',
    subtitle: `${mach.nproc} cores, ${Math.round(mach.memoryMiB / 1024)} GiB RAM, Node ${mach.node}, ${results.date.slice(0, 10)}${results.options.quick ? ' (quick smoke run)' : ''}`,
    panels,
  });
}

function markdown(results) {
  const lines = [];
  const s = (ms) => (ms === null || ms === undefined ? 'n/a' : (ms / 1000).toFixed(2));
  const mib = (kib) => (kib ? `${Math.round(kib / KiB)}` : 'n/a');
  const cpu = (v) =>
    v.clientCpuMs || v.serverCpuMs
      ? `${s(v.clientCpuMs ?? 0)} + ${v.serverCpuMs !== undefined ? s(v.serverCpuMs) : '?'}`
      : 'n/a';
  const { large, memory, many, concurrent, startup } = results;
  lines.push('| target | measured | met? |', '| --- | --- | --- |');
  for (const t of results.targets)
    lines.push(
      `| ${t.target} | ${t.measured ?? 'n/a'}${t.note ? ` (${t.note})` : ''} | ${t.met === null ? 'n/a' : t.met ? 'yes' : '**no**'} |`,
    );
  if (large && !large.error) {
    lines.push(
      '',
      `**Store and get of ${large.sizeText}** (median of ${large.runs} runs; SHA-256 of every copy verified)`,
      '',
      '| contender | median s | MiB/s | min–max s | ratio fex/this | CPU s client + server | client peak RSS MiB | server/receiver peak RSS MiB |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    const r = large.results;
    for (const [name, v] of Object.entries(r)) {
      const fex = name.includes('get') || name === 'sftp get' ? r['fex get'] : r['fex store'];
      const ratioText = name.startsWith('fex') ? '' : (ratio(fex?.medianMs, v.medianMs) ?? '');
      lines.push(
        `| ${name} | ${s(v.medianMs)} | ${v.mibPerS ?? ''} | ${s(v.minMs)}–${s(v.maxMs)} | ${ratioText} | ${cpu(v)} | ${mib(v.clientPeakRssKiB)} | ${mib(v.serverPeakRssKiB)} |`,
      );
    }
    for (const [name, peer] of Object.entries(results.peers ?? {}))
      if (peer && !peer.available && name !== 'hyperfine')
        lines.push(`| ${name} | not run: ${peer.reason} | | | | | | |`);
  }
  if (memory && !memory.error) {
    lines.push(
      '',
      '**Peak RSS by file size** (MiB; fresh server per size)',
      '',
      '| size | server idle | server during store | server during get | client store | client get |',
      '| --- | --- | --- | --- | --- | --- |',
    );
    for (const row of memory.sizes)
      lines.push(
        `| ${row.sizeText} | ${mib(row.serverIdleRssKiB)} | ${mib(row.serverStorePeakKiB)} | ${mib(row.serverGetPeakKiB)} | ${mib(row.clientStorePeakKiB)} | ${mib(row.clientGetPeakKiB)} |`,
      );
  }
  if (many && !many.error) {
    lines.push(
      '',
      `**${many.files} files of 1 KiB in one session** (median of ${many.runs} runs, start-up included)`,
      '',
      '| contender | median s | files/s | min–max s | flush afterwards s |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const [name, v] of Object.entries(many.results))
      lines.push(
        `| ${name} | ${s(v.medianMs)} | ${v.filesPerS} | ${s(v.minMs)}–${s(v.maxMs)} | ${v.syncMs !== undefined ? s(v.syncMs) : ''} |`,
      );
  }
  if (concurrent && !concurrent.error) {
    const m = concurrent.medians;
    lines.push(
      '',
      `**${concurrent.clients} concurrent clients** (${formatSize(concurrent.fileSize)} stored and fetched back by each, bytes compared; median of ${concurrent.runs} runs)`,
      '',
      '| wall s | MiB/s (both ways) | transfers/s | per-client min / median / max ms | failed | server RSS idle → peak MiB |',
      '| --- | --- | --- | --- | --- | --- |',
      `| ${s(m.wallMs)} | ${m.mibPerS} | ${m.transfersPerS} | ${m.perClientMinMs} / ${m.perClientMedianMs} / ${m.perClientMaxMs} | ${m.failed} | ${mib(m.serverIdleRssKiB)} → ${mib(m.serverPeakRssKiB)} |`,
    );
    const phases = concurrent.samples[0]?.phaseMediansMs;
    if (phases)
      lines.push(
        '',
        `Median per-client phase times (ms, first run): ${Object.entries(phases)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}.`,
      );
  }
  if (startup && !startup.error) {
    lines.push(
      '',
      `**Start-up** (${startup.tool}: ${startup.runs} rounds after 3 warm-up rounds)`,
      '',
      '| command | median ms | min–max ms |',
      '| --- | --- | --- |',
    );
    for (const [name, v] of Object.entries(startup.results))
      lines.push(`| ${name} | ${v.medianMs} | ${v.minMs}–${v.maxMs} |`);
  }
  const mach = results.machine;
  lines.push(
    '',
    `Machine: ${mach.nproc} × ${mach.cpuModel}, ${mach.memoryMiB} MiB RAM, ${mach.os}, Linux ${mach.kernel}, Node ${mach.node}; fex ${mach.commit ?? '?'}${mach.srcModified ? ' (with uncommitted changes in src/)' : ''}; ${results.date}.`,
  );
  return `${lines.join('\n')}\n`;
}

/** Formats a generated file the way `npm run lint` expects, when prettier is installed. */
async function prettify(path) {
  try {
    const prettier = await import('prettier');
    const config = (await prettier.resolveConfig(path)) ?? {};
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, await prettier.format(text, { ...config, filepath: path }));
  } catch {
    // prettier is a dev dependency; without it the file stays as written
  }
}

/** Replaces the generated block of docs/performance.md, if the file has the markers. */
function updateDocs(table) {
  const path = join(REPO, 'docs', 'performance.md');
  if (!existsSync(path)) return false;
  const text = readFileSync(path, 'utf8');
  const begin = '<!-- bench:results:begin -->';
  const end = '<!-- bench:results:end -->';
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) return false;
  writeFileSync(path, `${text.slice(0, a + begin.length)}\n\n${table}\n${text.slice(b)}`);
  return path;
}

/* ------------------------------------------------------------------------------------------ */
/* Main                                                                                        */
/* ------------------------------------------------------------------------------------------ */

async function main() {
  const opts = options();
  if (opts.render) {
    const saved = JSON.parse(readFileSync(join(opts.out, 'results.json'), 'utf8'));
    writeFileSync(join(opts.out, 'chart.svg'), chart(saved));
    writeFileSync(join(opts.out, 'results.md'), markdown(saved));
    await prettify(join(opts.out, 'results.md'));
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
  // A smoke run does not wait for a quiet machine.
  if (opts.quick) quietness.maxWaitMs = 0;
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
        ['nc', 'curl', 'vsftpd', 'sshd', 'sftp', 'ssh-keygen', 'hyperfine'],
        { allowed: opts.install },
      );
      available.nc = peers.netcat();
      available.hyperfine = peers.hyperfine();
      const needsFtp = !opts.skip.has('large') || !opts.skip.has('many');
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
      ['concurrent', () => concurrentSection(opts, work)],
      ['startup', () => startupSection(opts, work, available)],
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
    note: 'CPU busy fraction (all cores, other users included) seen just before measurements; the bench waits up to 30 s for it to fall under 0.3',
    checks: quietness.checks,
    waitedS: round(quietness.waitedMs / 1000, 1),
    medianBusy: round(median(quietness.busy), 2),
    measurementsStartedBusy: quietness.stillBusy,
  };
  results.durationS = round((performance.now() - started) / 1000, 1);
  mkdirSync(opts.out, { recursive: true });
  writeFileSync(join(opts.out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(opts.out, 'chart.svg'), chart(results));
  const table = markdown(results);
  writeFileSync(join(opts.out, 'results.md'), table);
  await prettify(join(opts.out, 'results.md'));
  const official = !opts.quick && opts.out === BENCH && opts.root === REPO && opts.size === GiB;
  const doc = official && opts.runs >= 3 && updateDocs(table);
  if (doc) {
    await prettify(doc);
    log('updated the table in docs/performance.md');
  }
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
