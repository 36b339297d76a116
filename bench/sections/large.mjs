/**
 * Store and get of one large file vs the limits (a Node pipe with 1 MiB buffers, nc with fsync,
 * the disk's own sequential write with fsync), with the default-buffer Node pipe, vsftpd + curl
 * and OpenSSH sftp kept as history; every copy's SHA-256 verified and the peak RSS of each
 * process. Each round runs every contender once, in an order rotated from round to round, and the
 * target is the median of the rounds' own ratios of fex to the fastest limit of that round.
 */
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { register, runFex, startServer } from '../lib/fex.mjs';
import { makeRandomFile, verify } from '../lib/files.mjs';
import { BENCH } from '../lib/paths.mjs';
import { pipeOptions, startPipeServer } from '../lib/pipe-server.mjs';
import { summary } from '../lib/samples.mjs';
import { settle } from '../lib/settle.mjs';
import { warmFreeMemory } from '../lib/warm-memory.mjs';
import {
  GiB,
  MiB,
  check,
  cpuMs,
  exited,
  formatSize,
  freeBytes,
  freePort,
  log,
  median,
  ratio,
  readStatusKiB,
  resetPeak,
  round,
  runTimed,
  sha256File,
  start,
  waitListening,
} from '../lib/util.mjs';

export async function largeSection(opts, work, available) {
  const dir = join(work, 'large');
  mkdirSync(join(dir, 'names'), { recursive: true });
  const need = opts.size * (3 + opts.runs) + GiB;
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
  let currentRep = 0;
  const add = (name, sample) => {
    (samples[name] ??= []).push({ ...sample, rep: currentRep });
    log(`large: ${name} ${(sample.ms / 1000).toFixed(2)} s`);
  };
  const out = join(dir, 'received.bin');
  // What a contender writes (the copy) and some room for its processes' own memory.
  const warmBytes = opts.size + Math.min(opts.size, 256 * MiB);
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

  /**
   * The bare pipe one way: its listening side (`listen`: role and file) is started before the
   * clock, like the fex server; the timed client (`connect`) does the transfer.
   */
  const pipe = async (label, listen, connect, what, buffer, hash) => {
    const listener = await startPipeServer(...listen, buffer, hash);
    const [role, path] = connect;
    const result = check(
      await runTimed(
        process.execPath,
        [
          join(BENCH, 'pipe-baseline.mjs'),
          role,
          String(listener.port),
          path,
          ...pipeOptions(buffer, hash),
        ],
        { rss: true, workDir: dir },
      ),
      what,
    );
    const { report } = await listener.done;
    await verify(out, srcSha);
    clean(out);
    add(label, {
      ms: result.ms,
      clientPeakRssKiB: result.peakRssKiB,
      serverPeakRssKiB: report.maxRssKiB,
      clientCpuMs: result.cpuMs,
      serverCpuMs: report.cpuMs,
    });
  };

  /** One curl transfer, then the fsync of what it wrote (vsftpd never flushes), timed with it. */
  const curl = async (label, args, written, what) => {
    const result = check(
      await runTimed(available.vsftpd.curl, ['-sS', ...args], { rss: true, workDir: dir }),
      `curl ${what}`,
    );
    const t0 = performance.now();
    const fd = openSync(written, 'r');
    fsyncSync(fd);
    closeSync(fd);
    const syncMs = performance.now() - t0;
    add(label, {
      ms: result.ms + syncMs,
      rawMs: result.ms,
      syncMs,
      clientPeakRssKiB: result.peakRssKiB,
    });
  };

  /** One `sftp -b` batch of one command (`put` or `get`), timed. */
  const sftp = async (verb, command) => {
    const ssh = available.sshd;
    const batch = join(dir, `${verb}.batch`);
    writeFileSync(batch, command);
    const result = check(
      await runTimed(ssh.sftp, [...ssh.args, '-b', batch, ssh.target], { rss: true, workDir: dir }),
      `sftp ${verb}`,
    );
    add(`sftp ${verb}`, { ms: result.ms, clientPeakRssKiB: result.peakRssKiB });
  };

  const steps = {
    tunedStore: () =>
      pipe(
        'tuned pipe store',
        ['recv-server', out],
        ['send-client', src],
        'tuned pipe (send)',
        TUNED_BUFFER,
      ),
    tunedGet: () =>
      pipe(
        'tuned pipe get',
        ['send-server', src],
        ['recv-client', out],
        'tuned pipe (receive)',
        TUNED_BUFFER,
      ),
    // The tuned pipe doing the work the store target requires, SHA-256 on both ends, compared,
    // the plain way (inline) and nothing else. Not a limit fex is held to: its own ratio to the
    // limits says what that work costs done simply, beside what fex makes of it.
    hashingStore: () =>
      pipe(
        HASHING_PIPE,
        ['recv-server', out],
        ['send-client', src],
        'hashing pipe (send)',
        TUNED_BUFFER,
        'sha256',
      ),
    pipeStore: () =>
      pipe('node pipe store', ['recv-server', out], ['send-client', src], 'node pipe (send)'),
    pipeGet: () =>
      pipe('node pipe get', ['send-server', src], ['recv-client', out], 'node pipe (receive)'),
    async disk() {
      // The disk's own sequential write with a final fsync: the floor of any store or get that
      // ends on this disk (the source is in the page cache, like every contender's).
      const result = check(
        await runTimed('dd', [`if=${src}`, `of=${out}`, 'bs=1M', 'conv=fsync', 'status=none'], {
          workDir: dir,
        }),
        'dd conv=fsync',
      );
      add('disk (dd conv=fsync)', { ms: result.ms });
      await verify(out, srcSha);
      clean(out);
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
      // The server's copy stays until the section ends: its deferred work (background flushes,
      // checkpoints) runs during the round and is measured with it.
      clean(out);
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
      const stored = join(ftp.upDir, `big-${rep}.bin`);
      await curl('vsftpd+curl store', ['-T', src, `${ftp.url}/big-${rep}.bin`], stored, 'upload');
      await verify(stored, srcSha);
    },
    async ftpGet(rep) {
      const ftp = available.vsftpd;
      if (!ftp.available) return;
      await curl('vsftpd+curl get', ['-o', out, `${ftp.url}/big-${rep}.bin`], out, 'download');
      await verify(out, srcSha);
      clean(out, join(ftp.upDir, `big-${rep}.bin`));
    },
    async sftpPut() {
      if (!available.sshd.available) return;
      await sftp('put', `put -f ${src} ${out}\n`);
      await verify(out, srcSha);
    },
    async sftpGet() {
      if (!available.sshd.available) return;
      const got = join(dir, 'sftp-got.bin');
      await sftp('get', `get -f ${out} ${got}\n`);
      await verify(got, srcSha);
      clean(out, got);
    },
  };

  try {
    for (let rep = 1; rep <= opts.runs; rep++) {
      currentRep = rep;
      log(`large: run ${rep}/${opts.runs}`);
      // Every contender once per round, in an order rotated between rounds, so a busy spell on
      // the machine falls on each of them alike; fex's get follows its own store in every order.
      const stores = rotate(
        ['tunedStore', 'fexStore', 'nc', 'disk', 'pipeStore', 'hashingStore'],
        rep - 1,
      );
      const gets = rotate(['tunedGet', 'fexGet', 'pipeGet'], rep - 1);
      for (const step of [...stores, ...gets, 'ftpStore', 'ftpGet', 'sftpPut', 'sftpGet']) {
        await settle();
        // Last before the clock starts: the memory freed here stays with the guest for ~1 s.
        warmFreeMemory(dir, warmBytes);
        await steps[step](rep);
      }
    }
  } finally {
    await server.stop();
    rmSync(src, { force: true });
    for (let rep = 1; rep <= opts.runs; rep++) clean(join(server.dir, `big-${rep}.bin`));
  }

  const results = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summary(v)]));
  const m = (name) => results[name]?.medianMs;
  const mbps = (name) => (m(name) ? round(opts.size / MiB / (m(name) / 1000), 1) : null);
  for (const [name, r] of Object.entries(results)) r.mibPerS = mbps(name);
  const store = perRound(samples, 'fex store', LIMITS.store);
  const get = perRound(samples, 'fex get', LIMITS.get);
  const storeTarget = perRound(samples, 'fex store', TARGET_LIMITS.store);
  const getTarget = perRound(samples, 'fex get', TARGET_LIMITS.get);
  const hashingPipe = perRound(samples, HASHING_PIPE, TARGET_LIMITS.store);
  return {
    size: opts.size,
    sizeText: formatSize(opts.size),
    runs: opts.runs,
    checksumsVerified: true,
    freeMemoryWarmedBytes: warmBytes,
    serverPeakResettable: canResetPeak,
    tunedBuffer: TUNED_BUFFER,
    socketBuffers: socketBuffers(),
    limits: LIMITS,
    results,
    perRound: { store: store.rounds, get: get.rounds },
    perRoundTarget: { store: storeTarget.rounds, get: getTarget.rounds },
    perRoundHashingPipe: { store: hashingPipe.rounds },
    ratios: {
      storeVsTarget: storeTarget.median,
      hashingPipeVsTarget: hashingPipe.median,
      getVsTarget: getTarget.median,
      storeVsBest: store.median,
      getVsBest: get.median,
      storeVsTunedPipe: ratio(m('fex store'), m('tuned pipe store')),
      getVsTunedPipe: ratio(m('fex get'), m('tuned pipe get')),
      storeVsDisk: ratio(m('fex store'), m('disk (dd conv=fsync)')),
      getVsDisk: ratio(m('fex get'), m('disk (dd conv=fsync)')),
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

/** The tuned pipe's buffers: 1 MiB, as fex's own write-behind batches. */
const TUNED_BUFFER = 1024 * 1024;

/** The tuned pipe with SHA-256 on both ends (pipe-baseline.mjs's `sha256`), beside the store. */
const HASHING_PIPE = 'hashing pipe store';

/**
 * The limits each direction is held to; the others (default-buffer pipe, curl, sftp) are history.
 * nc and dd move the bytes one way only, so they bound a get as much as a store.
 */
const LIMITS = {
  store: ['tuned pipe store', 'nc', 'disk (dd conv=fsync)'],
  get: ['tuned pipe get', 'nc', 'disk (dd conv=fsync)'],
};

/**
 * The limits the target names ("at most 1.1x the tuned pipe and nc with fsync"): each
 * round's ratio is to the faster of them. dd, the disk's own write, is reported beside it against
 * the fastest of all three (LIMITS): it moves no byte through a socket and checks none.
 */
const TARGET_LIMITS = {
  store: ['tuned pipe store', 'nc'],
  get: ['tuned pipe get', 'nc'],
};

function rotate(list, by) {
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

/** Each round's ratio of fex to the fastest limit measured in that same round, and their median. */
function perRound(samples, fexLabel, limits) {
  const rounds = [];
  for (const sample of samples[fexLabel] ?? []) {
    const best = limits
      .map((label) => ({ label, ms: samples[label]?.find((s) => s.rep === sample.rep)?.ms }))
      .filter((b) => b.ms !== undefined)
      .sort((a, b) => a.ms - b.ms)[0];
    if (best)
      rounds.push({
        round: sample.rep,
        fexMs: round(sample.ms, 1),
        best: best.label,
        bestMs: round(best.ms, 1),
        ratio: ratio(sample.ms, best.ms),
      });
  }
  return { rounds, median: rounds.length ? round(median(rounds.map((r) => r.ratio)), 3) : null };
}

/** The kernel's TCP buffer bounds (min, default, max bytes) that loopback autotuning works in. */
function socketBuffers() {
  const read = (name) => {
    try {
      return readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8').trim().split(/\s+/).map(Number);
    } catch {
      return null;
    }
  };
  return { tcp_rmem: read('tcp_rmem'), tcp_wmem: read('tcp_wmem') };
}
