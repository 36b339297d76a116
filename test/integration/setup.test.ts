/**
 * Set-up as a new user meets it (issue 12): `npm test` builds only when the build is stale (so
 * `npm ci && npm test` builds once), and a first-party plugin links without oclif's warning
 * about a missing lockfile. (Getting `fex` on the PATH is checked by .ci/run from the clone.)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { cleanup, makeUser, ROOT, tempDir } from '../helpers/harness.js';

const run = promisify(execFile);
const SCRIPT = join(ROOT, 'scripts', 'build-if-stale.mjs');

describe('set-up', () => {
  after(cleanup);

  it('runs the build from npm test only when its outputs are missing or older than its inputs', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    // npm test is scripts/test.mjs, which builds through build-if-stale.mjs before the tests.
    assert.equal(pkg.scripts.test, 'node scripts/test.mjs');
    const runner = await readFile(join(ROOT, 'scripts', 'test.mjs'), 'utf8');
    assert.match(runner, /run\(\[join\(ROOT, 'scripts', 'build-if-stale\.mjs'\)\]\)/);
    assert.equal(pkg.scripts.prepare, 'npm run build');

    const root = await tempDir('fex-build-');
    const at = async (path: string, seconds: number) => {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), '');
      await utimes(join(root, path), seconds, seconds);
    };
    const check = async () => (await run('node', [SCRIPT, '--check', root])).stdout.trim();
    for (const input of ['src/a.ts', 'test/b.ts', 'tsconfig.json', 'package.json'])
      await at(input, 1000);
    for (const folder of ['src', 'test']) await utimes(join(root, folder), 1000, 1000);
    assert.equal(await check(), 'stale', 'nothing built yet');
    for (const output of ['dist/src/index.js', 'dist/test/x.js', 'oclif.manifest.json'])
      await at(output, 2000);
    assert.equal(await check(), 'fresh', 'just built, as npm ci leaves it');
    await at('src/a.ts', 3000);
    assert.equal(await check(), 'stale', 'a source edited after the build');
    await at('src/a.ts', 1000);
    await utimes(join(root, 'src'), 1000, 1000);
    assert.equal(await check(), 'fresh');
    await rm(join(root, 'dist', 'test'), { recursive: true });
    assert.equal(await check(), 'stale', 'a build output missing');
  });

  it('links a first-party plugin without warnings', async () => {
    const user = await makeUser();
    const linked = await user.run(['plugins', 'link', './plugins/messaging'], { cwd: ROOT });
    assert.equal(linked.code, 0, linked.stderr);
    assert.doesNotMatch(linked.stderr, /warn|lockfile/i);
    const listed = await user.run(['plugins']);
    assert.match(listed.stdout, /^fex-plugin-messaging \S+ \(link\) /m);
    const help = await user.run(['help', 'broadcast']);
    assert.equal(help.code, 0, help.stderr);
  });
});
