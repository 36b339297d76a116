/**
 * The command table of the empty CLI: one trivial command in one module, imported the way oclif's
 * own templates do it (an ES import of @oclif/core). With one command, oclif's explicit strategy
 * does the same work as fex's manifest plus one command module.
 */
import { Command } from '@oclif/core';

class Hello extends Command {
  static summary = 'Say hello.';

  async run() {
    this.log('hello');
  }
}

export const COMMANDS = { hello: Hello };
