/**
 * Many small files stored in one session vs FTP on vsftpd: one curl session (whose 1 s stalls are
 * detected from its own timestamped trace and reported apart) and one lftp session with `mput`,
 * both with vsftpd's flush (`sync -f` of the upload folder) counted in their time, since every fex
 * store is durable before its line is printed. The fex server keeps every stored file for the
 * whole section, so its deferred work (checkpoints flushing earlier rounds' files) falls inside
 * the measured times.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { hasShell, runFex, startServer } from '../lib/fex.mjs';
import { BENCH } from '../lib/paths.mjs';
import { summary } from '../lib/samples.mjs';
import { settle } from '../lib/settle.mjs';
import { KiB, check, log, quiet, ratio, round, runTimed } from '../lib/util.mjs';

export async function manySection(opts, work, available, count = opts.files, runs = opts.runs) {
  const dir = join(work, `many-${count}`);
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
  /** Rounds a peer (curl, lftp) failed, each left out of that peer's median. */
  const peerFailures = [];
  const ftp = available.vsftpd;
  try {
    for (let rep = 1; rep <= runs; rep++) {
      log(`many: run ${rep}/${runs} (${count} files of 1 KiB)`);
      const files = join(dir, `r${rep}`);
      mkdirSync(files);
      const names = [];
      const contents = new Map();
      for (let i = 1; i <= count; i++) {
        const name = `r${rep}-f${String(i).padStart(5, '0')}.txt`;
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
                // Every line is counted: 10,000 of them are about 500 KB.
                outputLimit: 64 << 20,
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
          CURL,
          async () => {
            const trace = join(dir, `curl-${rep}.trace`);
            const result = check(
              await runTimed(
                ftp.curl,
                [
                  '-sS',
                  '-v',
                  '--trace-time',
                  '--stderr',
                  trace,
                  '--ftp-create-dirs',
                  '-T',
                  // curl's own glob: a list of 10,000 names would pass the kernel's 128 KiB limit
                  // on one argument.
                  `r${rep}-f[00001-${String(count).padStart(5, '0')}].txt`,
                  `${ftp.url}/many-${rep}/`,
                ],
                { cwd: files },
              ),
              'curl -T r-f[...].txt',
            );
            const stalls = findStalls(readFileSync(trace, 'utf8'));
            rmSync(trace, { force: true });
            return { ...flushed(ftp, `many-${rep}`, result.ms), stalls };
          },
        ]);
      if (ftp.available && ftp.lftp)
        variants.push([
          LFTP,
          async () => {
            const script = join(dir, `lftp-${rep}.script`);
            writeFileSync(
              script,
              [
                'set cmd:fail-exit yes',
                'set net:max-retries 1',
                `open ftp://127.0.0.1:${ftp.port}`,
                `mkdir -p up/lftp-${rep}`,
                `cd up/lftp-${rep}`,
                `lcd ${files}`,
                `mput r${rep}-f*.txt`,
                '',
              ].join('\n'),
            );
            const result = check(await runTimed(ftp.lftp, ['-f', script]), 'lftp mput');
            return flushed(ftp, `lftp-${rep}`, result.ms);
          },
        ]);
      // Rotate the order between runs so no contender always goes first.
      variants.push(...variants.splice(0, (rep - 1) % variants.length));
      for (const [label, run] of variants) {
        await settle();
        const isFex = label.startsWith('fex');
        // Where an FTP client uploads this round (no FTP server at all when only fex runs).
        const peerDir = isFex
          ? undefined
          : join(ftp.upDir, `${label === LFTP ? 'lftp' : 'many'}-${rep}`);
        let sample;
        try {
          sample = await run();
        } catch (error) {
          // A peer's failure costs it this round, not the section: fex's rounds still count.
          if (isFex) throw error;
          const message = error instanceof Error ? error.message : String(error);
          log(`many: ${label} failed in run ${rep}, left out of its median: ${message}`);
          peerFailures.push({ label, run: rep, error: message.slice(0, 300) });
          rmSync(peerDir, { recursive: true, force: true });
          continue;
        }
        add(label, sample);
        if (isFex) {
          // Checked, and left in place: the server's deferred work runs during later stores.
          const server = await serverFor(label.includes('shell') ? 'shell' : 'api');
          checkAll(server.dir, label);
        } else {
          checkAll(peerDir, label);
          rmSync(peerDir, { recursive: true, force: true });
        }
      }
      rmSync(files, { recursive: true, force: true });
    }
  } finally {
    for (const server of Object.values(servers)) {
      await server.stop();
      rmSync(server.dir, { recursive: true, force: true });
    }
  }
  const fexLabel = shell ? 'fex shell (piped)' : 'fex Session API (1 process)';
  // curl's rounds without a stall are a contender of their own; the stalled ones stay as history.
  const curlRounds = samples[CURL] ?? [];
  const stallFree = curlRounds.filter((r) => r.stalls.count === 0);
  if (stallFree.length) samples[CURL_CLEAN] = stallFree;
  // Every round, with its stalls taken out: an estimate when no round was free of them.
  if (curlRounds.length)
    samples[CURL_NET] = curlRounds.map((r) => ({ ...r, ms: r.ms - r.stalls.totalMs }));
  const results = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summary(v)]));
  for (const r of Object.values(results))
    r.filesPerS = r.medianMs ? round(count / (r.medianMs / 1000), 1) : null;
  const fexMs = results[fexLabel]?.medianMs;
  const curlBest = results[CURL_CLEAN] ? CURL_CLEAN : CURL_NET;
  const baselines = [curlBest, LFTP].filter((label) => results[label]);
  const best = baselines.sort((a, b) => results[a].medianMs - results[b].medianMs)[0] ?? null;
  return {
    files: count,
    fileSize: KiB,
    runs,
    shellAvailable: shell,
    fexVariant: fexLabel,
    results,
    curlStalls: curlRounds.map((r) => r.stalls),
    stallFreeCurlRounds: stallFree.length,
    peerFailures,
    best,
    ratios: {
      fexVsBest: best ? ratio(fexMs, results[best].medianMs) : null,
      fexVsStallFreeCurl: ratio(fexMs, results[CURL_CLEAN]?.medianMs),
      fexVsCurlStallsSubtracted: ratio(fexMs, results[CURL_NET]?.medianMs),
      fexVsLftp: ratio(fexMs, results[LFTP]?.medianMs),
      fexVsCurlAllRounds: ratio(fexMs, results[CURL]?.medianMs),
    },
  };
}

const CURL = 'vsftpd+curl, all rounds (+flush)';
const CURL_CLEAN = 'vsftpd+curl, stall-free rounds (+flush)';
const CURL_NET = 'vsftpd+curl, stalls subtracted (+flush)';
const LFTP = 'vsftpd+lftp mput (+flush)';

/** vsftpd flushes nothing: `sync -f` of the upload folder, timed into the FTP client's time. */
function flushed(ftp, folder, ms) {
  const t0 = performance.now();
  quiet('sync', ['-f', join(ftp.upDir, folder)]);
  const syncMs = performance.now() - t0;
  return { ms: ms + syncMs, rawMs: ms, syncMs };
}

/**
 * curl's idle gaps of 0.5 s or more, from its `-v --trace-time` lines (`HH:MM:SS.micro ...`):
 * how many, their total, and the lines on both sides of the first one, which say where in the
 * FTP exchange it idled.
 */
export function findStalls(trace) {
  const lines = trace.split('\n').filter((l) => /^\d\d:\d\d:\d\d\.\d+ /.test(l));
  const at = (line) => {
    const [h, m, rest] = line.slice(0, line.indexOf(' ')).split(':');
    return (Number(h) * 3600 + Number(m) * 60 + Number(rest)) * 1000;
  };
  let count = 0;
  let totalMs = 0;
  let example = null;
  for (let i = 1; i < lines.length; i++) {
    let gap = at(lines[i]) - at(lines[i - 1]);
    if (gap < 0) gap += 86_400_000;
    if (gap < 500) continue;
    count++;
    totalMs += gap;
    example ??= { gapMs: round(gap, 1), before: lines[i - 1], after: lines[i] };
  }
  return { count, totalMs: round(totalMs, 1), example };
}
