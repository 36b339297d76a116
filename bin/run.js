#!/usr/bin/env node
import { createRequire } from 'node:module';

// `fex serve` starts over once, in the same process, with V8's old generation given a 48 MB limit
// from the start. With V8's default (a limit of about 20 MB on a 10 MB heap), a server receiving
// a large file ran 0 to 60 mark-compacts per GiB, back to back: V8 starts marking whenever the
// old generation's room is less than the young generation's capacity, and the server's scavenges
// of received buffers (src/shared/young-garbage.ts) make that happen. V8 keeps the limit at least
// this after each collection: 48 MB still leaves 27 MB of room once a crowd of 3,000 clients has
// left 21 MB live (32 MB left 11, and marking began again), while 64 MB let garbage lift the peak
// RSS of the abuse tests by 10-50 MiB (48 MB: as V8's default). V8 reads the size only at start
// (Node refuses it in NODE_OPTIONS), hence the re-execution: `process.execve` keeps the process
// id, its stdio and its environment. Where it does not exist (Node before 22.15, Windows), or the
// operator chose the size (`node --initial-old-space-size=N fex serve`), the server starts as it
// is. docs/performance.md, "Mark-compact storms on the receiving end".
const HEAP_ROOM = '--initial-old-space-size';
if (
  process.argv[2] === 'serve' &&
  typeof process.execve === 'function' &&
  // V8 takes its flags with `_` or `-` alike.
  !process.execArgv.some((arg) => arg.replaceAll('_', '-').startsWith(HEAP_ROOM))
) {
  const argv = [`${HEAP_ROOM}=48`, ...process.execArgv, ...process.argv.slice(1)];
  try {
    process.execve(process.execPath, [process.execPath, ...argv], process.env);
  } catch {
    // Not allowed here (a seccomp profile, an odd execPath): serve with V8's defaults.
  }
}

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
