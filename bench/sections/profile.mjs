/** `node --cpu-prof` of server and client during a large store and get (--profile). */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fexEnv, register, runFex, startServer } from '../lib/fex.mjs';
import { makeRandomFile } from '../lib/files.mjs';
import { check, formatSize, log, round, runTimed } from '../lib/util.mjs';
import { summarize } from '../profile-summary.mjs';

export async function profileSection(opts, work) {
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
