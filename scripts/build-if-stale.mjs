#!/usr/bin/env node
/**
 * `npm test`'s build step: builds only when the build is missing or older than its inputs. After
 * `npm ci`, whose `prepare` has just built, `npm test` then builds no second time; after an edit
 * it builds as before. The build's last output, oclif.manifest.json, marks when it finished.
 *
 *   node scripts/build-if-stale.mjs             build if stale (npm run build)
 *   node scripts/build-if-stale.mjs --check DIR  print "fresh" or "stale" for DIR, build nothing
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What `npm run build` reads: tsc's inputs, its config, and the build's own step (link-self). */
const INPUTS = ['src', 'test', 'tsconfig.json', 'package.json', 'scripts/link-self.mjs'];
/** What it writes; any missing means a build is due. */
const OUTPUTS = ['oclif.manifest.json', 'dist/src/index.js', 'dist/test'];

const mtime = (path) => statSync(path, { throwIfNoEntry: false })?.mtimeMs;

function newest(path) {
  const info = statSync(path, { throwIfNoEntry: false });
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  // A folder's own time changes when a file in it is added, removed or renamed.
  let latest = info.mtimeMs;
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

export function isStale(root) {
  const built = OUTPUTS.map((path) => mtime(join(root, path)));
  if (built.some((time) => time === undefined)) return true;
  return Math.max(...INPUTS.map((path) => newest(join(root, path)))) > built[0];
}

const [flag, dir] = process.argv.slice(2);
if (flag === '--check') {
  console.log(isStale(dir) ? 'stale' : 'fresh');
} else {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  if (isStale(root)) {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const { status } = spawnSync(npm, ['run', 'build'], { cwd: root, stdio: 'inherit' });
    process.exitCode = status ?? 1;
  } else {
    console.log('build is up to date with src/ and test/: not rebuilt');
  }
}
