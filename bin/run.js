#!/usr/bin/env node
import { createRequire } from 'node:module';

// require, not import: see src/cli/oclif.ts (oclif's whole index and Node's scan of CommonJS
// exports would cost every command about 30 ms).
const require = createRequire(import.meta.url);
const { run } = require('@oclif/core/run');
const { flush } = require('@oclif/core/flush');
const { handle } = require('@oclif/core/handle');
const { settings } = require('@oclif/core/settings');

// fex and its plugins ship JavaScript: never look for TypeScript sources to transpile.
settings.enableAutoTranspile = false;

// A reader that stops early (`fex -h | head -n 1`) closes the pipe: what is left can never be
// written, so the flush must not wait for it (Node 24 reports that wait as an unsettled await).
const closed = new Promise((resolve) => process.stdout.once('close', resolve));
process.stdout.on('error', (error) => {
  if (error.code !== 'EPIPE') throw error;
});

try {
  await run(process.argv.slice(2), import.meta.url);
  await Promise.race([flush(), closed]);
} catch (error) {
  // fex's own commands have printed their line already (an ExitError); anything else, from a
  // plugin's command or from oclif itself, is said the fex way too: one `Error: ...` line.
  if (error?.code === 'EEXIT') await handle(error);
  else {
    const { toFexError } = await import('../dist/src/cli/base-command.js');
    const fex = toFexError(error);
    process.stderr.write(`${fex.text}\n`);
    process.exitCode = fex.exit;
  }
}
