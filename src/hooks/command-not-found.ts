/**
 * `fex /store x` runs `fex store x`, and `fex /?` shows help, as the shell would; anything else
 * unknown gets the one line of SPEC.md and exit status 2.
 */
import { Errors, type Hook } from '@oclif/core';
import { FexError } from '../protocol/errors.js';

const hook: Hook<'command_not_found'> = async function (options) {
  const { id, config } = options;
  const argv = options.argv ?? [];
  if (id === '/?' || id === '?') return config.runCommand('help', argv);
  if (id.startsWith('/') && config.findCommand(id.slice(1)))
    return config.runCommand(id.slice(1), argv);
  const error = new FexError('COMMAND_NOT_FOUND');
  process.stderr.write(`${error.line}\n`);
  throw new Errors.ExitError(error.exit);
};

export default hook;
