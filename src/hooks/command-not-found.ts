/**
 * `fex /store x` runs `fex store x`, and `fex /?` shows help, as the shell would; anything else
 * unknown gets the one line of SPEC.md and exit status 2, with a "did you mean" line when a
 * command is close to what was typed (`fex stor x`).
 */
import type { Hook } from '@oclif/core';
import { Errors } from '../cli/oclif.js';
import { commandHint } from '../cli/usage-hint.js';
import { FexError } from '../shared/errors.js';

const hook: Hook<'command_not_found'> = async function (options) {
  const { config } = options;
  const argv = options.argv ?? [];
  const id = options.id.replace(/^\//, '');
  if (id === '?') return config.runCommand('help', argv);
  if (config.findCommand(id)) return config.runCommand(id, argv);
  // With topics separated by spaces, oclif reads `fex dir extra` as a command "dir:extra":
  // it is `dir` with a parameter too many, which `dir` itself refuses.
  const words = id.split(':');
  for (let n = words.length - 1; n >= 1; n--) {
    const prefix = words.slice(0, n).join(':');
    if (config.findCommand(prefix)) return config.runCommand(prefix, [...words.slice(n), ...argv]);
  }
  const visible = config.commands.filter((command) => !command.hidden);
  const hint = commandHint(
    words.join(' '),
    visible.map((command) => command.id.split(':').join(' ')),
    `${config.bin} `,
  );
  const error = new FexError('COMMAND_NOT_FOUND').withHint(hint);
  process.stderr.write(`${error.text}\n`);
  throw new Errors.ExitError(error.exit);
};

export default hook;
