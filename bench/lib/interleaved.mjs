/**
 * Times short commands in interleaved rounds: each round runs every command once, so a change in
 * the machine's load while they are measured falls on all of them alike. (Thirty runs of one
 * command and then thirty of the next let a busy spell on this shared machine fall on one of
 * them.)
 * hyperfine times each run when it is installed (-N: no shell in between); Node's clock
 * otherwise.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { check, median, round, runTimed } from './util.mjs';

/** One round: each command once, in order; resolves with milliseconds per label. */
async function hyperfineRound(commands, { hyperfine, env, dir }) {
  const exported = join(dir, 'hyperfine-round.json');
  const args = ['-N', '--runs', '1', '--export-json', exported];
  for (const [label, argv] of commands) args.push('-n', label, argv.join(' '));
  check(await runTimed(hyperfine, args, { env }), 'hyperfine');
  const { results } = JSON.parse(readFileSync(exported, 'utf8'));
  return Object.fromEntries(results.map((r) => [r.command, r.times[0] * 1000]));
}

async function nodeRound(commands, { env }) {
  const times = {};
  for (const [label, [cmd, ...args]] of commands)
    times[label] = check(await runTimed(cmd, args, { env }), label).ms;
  return times;
}

function stats(times) {
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const variance = times.reduce((a, t) => a + (t - mean) ** 2, 0) / Math.max(1, times.length - 1);
  return {
    runs: times.length,
    medianMs: round(median(times), 1),
    meanMs: round(mean, 1),
    stddevMs: round(Math.sqrt(variance), 1),
    minMs: round(Math.min(...times), 1),
    maxMs: round(Math.max(...times), 1),
  };
}

/**
 * `commands` is a list of [label, argv]; an argv word may not contain white space when hyperfine
 * is used (it splits the command line). `warmups` rounds are run first and not counted.
 * Resolves with { tool, results: { label: stats }, times: { label: [ms per round] } }.
 */
export async function timeInterleaved(commands, { rounds, warmups, env, dir, hyperfine }) {
  const spaces = commands.some(([, argv]) => argv.some((word) => /\s/.test(word)));
  const viaHyperfine = hyperfine?.available && !spaces;
  const times = Object.fromEntries(commands.map(([label]) => [label, []]));
  for (let round = -warmups; round < rounds; round++) {
    // The order rotates too, so no command always runs right after another one.
    const k = (round + warmups) % commands.length;
    const ordered = [...commands.slice(k), ...commands.slice(0, k)];
    const measured = viaHyperfine
      ? await hyperfineRound(ordered, { hyperfine: hyperfine.path, env, dir })
      : await nodeRound(ordered, { env });
    if (round >= 0) for (const [label, ms] of Object.entries(measured)) times[label].push(ms);
  }
  return {
    tool: `${viaHyperfine ? hyperfine.version : 'Node child_process (hyperfine not available)'}, interleaved rounds`,
    results: Object.fromEntries(Object.entries(times).map(([label, t]) => [label, stats(t)])),
    times,
  };
}
