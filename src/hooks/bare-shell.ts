/**
 * Bare `fex` (and `fex --stop-on-error`) starts the shell, so `fex < script.txt` works as SPEC.md
 * says. oclif 4 shows the root help for an empty argv right after the `init` hook, and a hook can
 * only stop that by ending the process, so this hook runs the shell and then exits with its
 * status, after its output has been flushed. `fex --help` still shows the help.
 */
import type { Hook } from '@oclif/core';

const SHELL_FLAGS = new Set(['--stop-on-error']);

const hook: Hook<'init'> = async function ({ id, argv, config }) {
  const words = id === undefined ? argv : [id, ...argv];
  if (!words.every((word) => SHELL_FLAGS.has(word))) return;
  let status = 0;
  try {
    await config.runCommand('shell', words);
  } catch (error) {
    const exit = (error as { oclif?: { exit?: unknown } }).oclif?.exit;
    // Anything but oclif's ExitError (whose message the command has printed) is oclif's to show.
    if (typeof exit !== 'number') throw error;
    status = exit;
  }
  // Imported here: this hook runs before every command, and most are not the shell.
  const { flushOutput } = await import('../cli/flush-output.js');
  await flushOutput();
  process.exit(status);
};

export default hook;
