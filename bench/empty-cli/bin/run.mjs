#!/usr/bin/env node
// Loads oclif the way fex's bin/run.js does (issue 16): `require` of the four modules it runs
// with, not an ES import of @oclif/core's whole index. @oclif/core resolves to the repository's
// node_modules.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { run } = require('@oclif/core/run');
const { flush } = require('@oclif/core/flush');
const { handle } = require('@oclif/core/handle');
const { settings } = require('@oclif/core/settings');

settings.enableAutoTranspile = false;

try {
  await run(process.argv.slice(2), import.meta.url);
  await flush();
} catch (error) {
  await handle(error);
}
