/** Many small files stored in one session vs one curl session on vsftpd. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { hasShell, runFex, startServer } from '../lib/fex.mjs';
import { BENCH } from '../lib/paths.mjs';
import { summary } from '../lib/samples.mjs';
import { settle } from '../lib/settle.mjs';
import { KiB, check, log, quiet, ratio, round, runTimed } from '../lib/util.mjs';

export async function manySection(opts, work, available) {
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
