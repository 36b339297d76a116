#!/usr/bin/env node
// The plugin of examples/notes-plugin, as its author would have it: a fresh copy in a folder
// outside this repository, fex installed there from the tarball `npm pack` makes of this build,
// then `tsc --noEmit` and the plugin's own tests (written with fex/testing). Run by CI (through
// test/integration/example-plugin.test.ts) after `npm run build`.
//
// Offline: the registry is not reachable from CI, so the copy gets a lockfile made from this
// repository's (fex's own dependencies, and TypeScript and @types/node for the author's tools),
// which `npm ci --offline` installs from npm's cache, as `npm install fex-<version>.tgz` would
// from the registry.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (cwd, command, args) =>
  execFileSync(command, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });

const work = await mkdtemp(join(tmpdir(), 'fex-example-plugin-'));
try {
  const fex = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
  const tarball = `fex-${fex.version}.tgz`;
  run(root, npm, ['pack', '--ignore-scripts', '--silent', '--pack-destination', work]);
  const plugin = join(work, 'notes-plugin');
  await cp(join(root, 'examples', 'notes-plugin'), plugin, {
    recursive: true,
    filter: (path) => !path.includes('node_modules'),
  });

  // What `npm install ../fex-<version>.tgz` writes into the plugin's package.json.
  const pkg = JSON.parse(await readFile(join(plugin, 'package.json'), 'utf8'));
  pkg.dependencies.fex = `file:../${tarball}`;
  await writeFile(join(plugin, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);

  const lock = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8'));
  const bytes = await readFile(join(work, tarball));
  const packages = {
    '': {
      name: pkg.name,
      version: pkg.version,
      dependencies: pkg.dependencies,
      devDependencies: pkg.devDependencies,
    },
    'node_modules/fex': {
      version: fex.version,
      resolved: `file:../${tarball}`,
      integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
      license: fex.license,
      dependencies: fex.dependencies,
      bin: fex.bin,
      engines: fex.engines,
    },
  };
  const tools = ['typescript', '@types/node', 'undici-types'].map((name) => `node_modules/${name}`);
  for (const [path, entry] of Object.entries(lock.packages))
    if (path !== '' && (!entry.dev || tools.includes(path))) packages[path] = entry;
  const pluginLock = { name: pkg.name, version: pkg.version, lockfileVersion: 3, packages };
  await writeFile(join(plugin, 'package-lock.json'), `${JSON.stringify(pluginLock, null, 2)}\n`);

  run(plugin, npm, ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--silent']);
  run(plugin, npm, ['run', '--silent', 'check']);
  run(plugin, npm, ['test']);
  console.log(`the example plugin type-checks and passes its tests against ${tarball}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
