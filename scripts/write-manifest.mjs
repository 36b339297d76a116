#!/usr/bin/env node
/**
 * Writes oclif.manifest.json, part of `npm run build`: every command's id, summary, flags and
 * args, read once here from the compiled classes. With it, oclif starts a command by importing
 * that command's module alone, instead of every command to learn what exists
 * (docs/performance.md, start-up). This is what oclif's own `oclif manifest` does.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { Plugin, settings } = createRequire(import.meta.url)('@oclif/core');
settings.enableAutoTranspile = false;

const plugin = new Plugin({
  root,
  isRoot: true,
  type: 'core',
  ignoreManifest: true,
  errorOnManifestCreate: true,
});
await plugin.load();
const ids = Object.keys(plugin.manifest.commands);
if (ids.length === 0) throw new Error(`no commands found under ${root}; build with tsc first`);
writeFileSync(join(root, 'oclif.manifest.json'), `${JSON.stringify(plugin.manifest, null, 2)}\n`);
console.log(`oclif.manifest.json: ${ids.sort().join(', ')}`);
