#!/usr/bin/env node
/**
 * The start-up comparison counted in instructions, which do not depend on the machine's load
 * (docs/performance.md, "Start-up"): the same three commands as the bench's `startup` section,
 * each run whole under `valgrind --tool=callgrind` (every thread of the process counted), in
 * interleaved rounds. Two diagnostic rows say where fex's extra instructions go, and neither is a
 * baseline of any target:
 *
 * - the empty CLI with fex's core plugins declared as `dependencies`, so oclif loads them as it
 *   loads fex's (bench/empty-cli lists the help plugin but declares no dependency, so oclif loads
 *   none for it);
 * - `fex dir` with `String.prototype.localeCompare` replaced by a code-point comparison in a
 *   preloaded module, which shows what ICU's collator costs (oclif sorts every plugin's commands
 *   with `localeCompare`). fex itself never does this.
 *
 * Three more rows are the floor under the target (bench/lib/floor-cli.mjs): the empty CLI with a
 * second command, with a command that makes one TCP round trip, and with both.
 *
 *   node bench/startup-instructions.mjs [--runs N] [--out FILE.json]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { fexEnv, register, runFex, startServer } from './lib/fex.mjs';
import { FLOOR_LABEL, emptyCliCopy, floorCommands, startEcho } from './lib/floor-cli.mjs';
import { BENCH, REPO } from './lib/paths.mjs';
import { check, collect, median, round, which } from './lib/util.mjs';

const CODE_POINT_COMPARE =
  'String.prototype.localeCompare = function (other) { return this < other ? -1 : this > other ? 1 : 0; };\n';

/** The empty CLI with fex's core plugins declared as dependencies, so oclif loads them. */
function emptyCliWithCorePlugins(work) {
  const fex = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  return emptyCliCopy(work, 'empty-cli-core-plugins', {
    editPjson(pjson) {
      pjson.oclif.plugins = fex.oclif.plugins;
      pjson.dependencies = Object.fromEntries(
        ['@oclif/core', ...fex.oclif.plugins].map((name) => [name, fex.dependencies[name]]),
      );
    },
  });
}

/** Instructions executed by one whole run of `argv` (all threads), from callgrind's summary. */
async function instructions(argv, env, work) {
  const child = spawn('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', ...argv], {
    cwd: work,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr = collect(child.stderr);
  // 'close', not 'exit': callgrind's summary is the last thing written to stderr.
  const [code] = await once(child, 'close');
  const found = /Collected\s*:\s*(\d+)/.exec(stderr.text);
  if (code !== 0 || !found) throw new Error(`${argv.join(' ')} failed (${code}): ${stderr.text}`);
  return Number(found[1]);
}

async function main() {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '3' }, out: { type: 'string' } },
  });
  const runs = Number(values.runs);
  if (!which('valgrind')) throw new Error('valgrind is not installed (apt-get install valgrind)');
  const work = mkdtempSync(join(tmpdir(), 'fex-startup-instructions-'));
  const echo = await startEcho();
  const server = await startServer({
    root: REPO,
    dir: join(work, 'server'),
    home: join(work, 'server-home'),
  });
  try {
    const home = join(work, 'client-home');
    await register(REPO, server, home, 'startup');
    for (const name of ['a.txt', 'b.txt', 'c.txt']) {
      writeFileSync(join(work, name), `${name}\n`);
      check(
        await runFex(REPO, ['store', join(work, name), '--server', server.address], { home }),
        'fex store',
      );
    }
    const preload = join(work, 'code-point-compare.mjs');
    writeFileSync(preload, CODE_POINT_COMPARE);
    const node = process.execPath;
    const fexDir = [join(REPO, 'bin/run.js'), 'dir', '--server', server.address];
    const commands = [
      ['fex dir (one-shot)', [node, ...fexDir]],
      ['empty oclif CLI', [node, join(BENCH, 'empty-cli/bin/run.mjs'), 'hello']],
      ['node -e 0', [node, '-e', '0']],
      [
        "diagnostic: empty oclif CLI with fex's core plugins",
        [node, emptyCliWithCorePlugins(work), 'hello'],
      ],
      ['diagnostic: fex dir, localeCompare without ICU', [node, '--import', preload, ...fexDir]],
      ...[
        ['floor: empty oclif CLI with a second command', { twoCommands: true }],
        ['floor: empty oclif CLI, one TCP round trip', { roundTrip: true }],
        [FLOOR_LABEL, { twoCommands: true, roundTrip: true }],
      ].map(([label, shape], i) => [
        label,
        [node, emptyCliCopy(work, `floor-${i}`, { commands: floorCommands(shape) }), 'hello'],
      ]),
    ];
    const counts = Object.fromEntries(commands.map(([label]) => [label, []]));
    const env = { ...fexEnv(home), ...echo.env };
    for (let round_ = 0; round_ < runs; round_++) {
      // Rotated, as the bench's timed rounds are; instructions do not care, but a file cache does.
      const order = commands.map((_, i) => commands[(i + round_) % commands.length]);
      for (const [label, argv] of order) counts[label].push(await instructions(argv, env, work));
    }
    const empty = median(counts['empty oclif CLI']);
    const results = Object.fromEntries(
      commands.map(([label]) => {
        const m = median(counts[label]);
        return [
          label,
          {
            medianM: round(m / 1e6, 1),
            runsM: counts[label].map((n) => round(n / 1e6, 1)),
            vsEmpty: round(m / empty, 3),
          },
        ];
      }),
    );
    for (const [label, r] of Object.entries(results))
      console.log(
        `${label.padEnd(52)} ${String(r.medianM).padStart(8)} M  ${r.vsEmpty}x  (${r.runsM.join(', ')})`,
      );
    if (values.out)
      writeFileSync(
        values.out,
        `${JSON.stringify({ node: process.version, runs, results }, null, 2)}\n`,
      );
  } finally {
    await server.stop();
    await echo.close();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
