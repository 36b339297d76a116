/**
 * fex's help: the list of commands shows each command's syntax (SPEC: `fex help` lists every
 * command's syntax), not only its name. Everything else is oclif's help.
 */
import type { Command } from '@oclif/core';
import { Help } from './oclif.js';
import { commandSyntax } from './syntax.js';

export default class FexHelp extends Help {
  protected override formatCommands(commands: Command.Loadable[]): string {
    if (commands.length === 0) return '';
    const rows = commands.map((command) => [commandSyntax(command), this.summary(command) ?? '']);
    return this.section('COMMANDS', this.renderList(rows, { indentation: 2, spacer: '\n' }));
  }
}
