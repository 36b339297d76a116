/**
 * `fex plugins link PATH` of a plugin whose dependencies are all already there, found from its
 * folder as Node finds them (fex's first-party plugins need only `fex` and `@oclif/core`, which
 * this repository's node_modules holds), links with `--no-install`: there is nothing to install,
 * and oclif's "No lockfile found ... you may need to install the dependencies" would be a false
 * alarm. A plugin that lacks one is installed as oclif does; an explicit `--install` or
 * `--no-install` is kept.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Hook } from '@oclif/core';

/** Whether `name` is in a node_modules of `folder` or of a folder above it. */
async function installed(folder: string, name: string): Promise<boolean> {
  for (let at = folder; ; at = dirname(at)) {
    if (
      await stat(join(at, 'node_modules', name)).then(
        () => true,
        () => false,
      )
    )
      return true;
    if (dirname(at) === at) return false;
  }
}

const hook: Hook<'init'> = async function ({ id, argv }) {
  if (id !== 'plugins:link') return;
  if (argv.some((word) => word === '--install' || word === '--no-install')) return;
  const path = argv.find((word) => !word.startsWith('-'));
  if (path === undefined) return;
  const folder = resolve(path);
  const manifest = await readFile(join(folder, 'package.json'), 'utf8')
    .then((text) => JSON.parse(text) as { dependencies?: Record<string, string> })
    .catch(() => undefined);
  if (!manifest) return;
  const names = Object.keys(manifest.dependencies ?? {});
  const present = await Promise.all(names.map((name) => installed(folder, name)));
  // What oclif reads later is this same argv: oclif runs the command with it after `init`.
  if (present.every(Boolean)) argv.push('--no-install');
};

export default hook;
