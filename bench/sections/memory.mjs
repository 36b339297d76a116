/** Peak RSS of the fex server and client at several file sizes: is it flat in the size? */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { register, runFex, startServer } from '../lib/fex.mjs';
import { makeRandomFile } from '../lib/files.mjs';
import { readProbe, threadsOf } from '../lib/memory-probe.mjs';
import { BENCH } from '../lib/paths.mjs';
import { MiB, check, formatSize, log, readStatusKiB, resetPeak, round } from '../lib/util.mjs';

export async function memorySection(opts, work) {
  const dir = join(work, 'memory');
  mkdirSync(dir, { recursive: true });
  const sizes = [...new Set([opts.size / 16, opts.size / 4, opts.size].map(Math.floor))].filter(
    (s) => s >= MiB,
  );
  const rows = [];
  for (const size of sizes) {
    // A fresh server per size: its peak RSS is then that of this size alone, reset or not. The
    // probe says what each peak was made of; removing its file starts the next peak.
    const probe = join(dir, 'server-at-peak.json');
    const server = await startServer({
      root: opts.root,
      dir: join(dir, 'server'),
      home: join(dir, 'server-home'),
      nodeArgs: ['--import', pathToFileURL(join(BENCH, 'lib', 'memory-probe.mjs')).href],
      env: { FEX_BENCH_MEMORY_PROBE: probe },
    });
    try {
      const home = join(dir, 'client-home');
      await register(opts.root, server, home, `mem${size}`);
      const name = `mem-${size}.bin`;
      const src = join(dir, name);
      await makeRandomFile(src, size);
      const idle = readStatusKiB(server.pid, 'VmRSS');
      const idleThreads = threadsOf(server.pid);
      rmSync(probe, { force: true });
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
      const storeAtPeak = readProbe(probe);
      rmSync(src);
      rmSync(probe, { force: true });
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
        // What the server's peaks were made of; `threads` above `serverIdleThreads` means the
        // hashing thread ran (it adds 20-30 MiB, docs/performance.md).
        serverIdleThreads: idleThreads,
        serverStoreAtPeak: storeAtPeak,
        serverGetAtPeak: readProbe(probe),
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
