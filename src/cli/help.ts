/**
 * fex's help: the list of commands shows each command's syntax (SPEC: `fex help` lists every
 * command's syntax), not only its name. Everything else is oclif's help.
 */
import type { Command, Interfaces } from '@oclif/core';
import { Help } from './oclif.js';
import { commandSyntax } from './syntax.js';

export default class FexHelp extends Help {
  protected override formatCommands(commands: Command.Loadable[]): string {
    if (commands.length === 0) return '';
    const rows = commands.map((command) => [commandSyntax(command), this.summary(command) ?? '']);
    return this.section('COMMANDS', this.renderList(rows, { indentation: 2, spacer: '\n' }));
  }

  /**
   * A topic that is a command too (`plugins`, whose subcommands `fex plugins --help` lists) is
   * listed once, under COMMANDS with its syntax, not a second time under TOPICS.
   */
  protected override get sortedTopics(): Interfaces.Topic[] {
    return super.sortedTopics.filter((topic) => !this.config.findCommand(topic.name));
  }
}
