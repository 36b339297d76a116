/**
 * The example plugin from a fresh copy outside the repository, against the packed fex tarball:
 * installed offline, type-checked with `tsc --noEmit`, and its own tests (fex/testing) passed.
 * The work is .ci/example-plugin.mjs's; this runs it in the suite.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/harness.js';

describe('the example plugin, outside the repository', () => {
  it(
    'installs fex from its tarball, type-checks and passes its own tests',
    { timeout: 300_000 },
    async () => {
      const child = spawn(process.execPath, [join(ROOT, '.ci', 'example-plugin.mjs')], {
        cwd: ROOT,
        env: Object.fromEntries(
          Object.entries(process.env).filter(([key]) => !key.startsWith('NODE_TEST')),
        ),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 0, output);
      // Node 20 reports in TAP (`# pass 4`), Node 24 with its spec reporter (`ℹ pass 4`).
      assert.match(output, /[#ℹ] pass 4\n[#ℹ] fail 0/);
      assert.match(output, /the example plugin type-checks and passes its tests against fex-/);
    },
  );
});
