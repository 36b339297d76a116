import type { Command } from '@oclif/core';

/**
 * A command's syntax without the program's name, e.g. `store <filename>` or `plugins install
 * <plugin>`: its `usage` when that is written out, else its name and arguments. Shared by
 * `fex help` and the shell's `/?`, so both list the same syntax.
 */
export function commandSyntax(command: Command.Loadable): string {
  const name = command.id.split(':').join(' ');
  const usage = Array.isArray(command.usage) ? command.usage[0] : command.usage;
  // A usage with oclif's templates in it is written for another form; build the syntax instead.
  if (usage && !usage.includes('<%'))
    return usage.replace(/^\S+/, (word) => word.split(':').join(' '));
  const args = Object.entries(command.args).map(([arg, spec]) =>
    spec.required ? `<${arg}>` : `[${arg}]`,
  );
  return [name, ...args].join(' ');
}
