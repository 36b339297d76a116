/**
 * One-shot `fex dir` vs an empty oclif CLI vs `node -e 0`, and beside them the floor under the
 * target: the empty CLI with a second command and one TCP round trip (bench/lib/floor-cli.mjs).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fexEnv, register, runFex, startServer } from '../lib/fex.mjs';
import { FLOOR_LABEL, emptyCliCopy, floorCommands, startEcho } from '../lib/floor-cli.mjs';
import { timeInterleaved } from '../lib/interleaved.mjs';
import { BENCH } from '../lib/paths.mjs';
import { settle } from '../lib/settle.mjs';
import { check, median, ratio, round } from '../lib/util.mjs';

export async function startupSection(opts, work, available) {
  const dir = join(work, 'startup');
  mkdirSync(dir, { recursive: true });
  const server = await startServer({
    root: opts.root,
    dir: join(dir, 'server'),
    home: join(dir, 'server-home'),
  });
  const home = join(dir, 'client-home');
  const echo = await startEcho();
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
      [
        FLOOR_LABEL,
        [
          node,
          emptyCliCopy(dir, 'floor-cli', {
            commands: floorCommands({ twoCommands: true, roundTrip: true }),
          }),
          'hello',
        ],
      ],
    ];
    await settle();
    const { tool, results, times } = await timeInterleaved(commands, {
      rounds: opts.startupRuns,
      warmups: 3,
      env: { ...fexEnv(home), ...echo.env },
      dir,
      hyperfine: available.hyperfine,
    });
    const m = (label) => results[label]?.medianMs;
    // Each round's own ratio: a busy spell moves it less than it moves the medians.
    const perRound = (label) =>
      round(median(times[label].map((t, i) => t / times['empty oclif CLI'][i])), 3);
    return {
      tool,
      runs: opts.startupRuns,
      commands: Object.fromEntries(commands.map(([label, argv]) => [label, argv.join(' ')])),
      results,
      emptyCli: 'loads oclif through require, as fex does (bench/empty-cli)',
      floorCli:
        'the empty CLI with a second command and a command that makes one TCP round trip to an echo listener (bench/lib/floor-cli.mjs)',
      ratios: {
        fexDirVsEmptyOclifPerRound: perRound('fex dir (one-shot)'),
        floorVsEmptyOclifPerRound: perRound(FLOOR_LABEL),
        fexDirVsEmptyOclif: ratio(m('fex dir (one-shot)'), m('empty oclif CLI')),
        emptyOclifVsNode: ratio(m('empty oclif CLI'), m('node -e 0')),
      },
    };
  } finally {
    await server.stop();
    await echo.close();
  }
}
