/**
 * The benchmark suite still runs: a tiny quick run (2 MiB, a few clients, no peers)
 * completes and writes valid results. Benchmarks are not tests: nothing here asserts a time.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, cleanup, tempDir } from '../helpers/harness.js';

after(cleanup);

test('bench/run.mjs --quick completes and writes valid JSON', { timeout: 120_000 }, async () => {
  const out = await tempDir('fex-bench-smoke-');
  const args = [
    join(ROOT, 'bench', 'run.mjs'),
    '--quick',
    '--size',
    '2MiB',
    '--clients',
    '10',
    '--no-peers',
    '--no-install',
    '--skip',
    'memory,many,many10k,startup',
    '--out',
    out,
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout.resume();
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, stderr.slice(-2000));
  const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as {
    machine: { nproc: number };
    targets: unknown[];
    large: { results: Record<string, { medianMs: number }> };
  };
  assert.equal(typeof results.machine.nproc, 'number');
  assert.ok(Array.isArray(results.targets));
  assert.ok(results.large.results['fex store'], 'the large-file section measured fex');
  const svg = await readFile(join(out, 'chart.svg'), 'utf8');
  assert.match(svg, /^<svg /);
});
