/**
 * The command table of the empty CLI: one trivial command, the same explicit strategy as fex's
 * src/commands/index.ts.
 */
import { Command } from '@oclif/core';

class Hello extends Command {
  static summary = 'Say hello.';

  async run() {
    this.log('hello');
  }
}

export const COMMANDS = { hello: Hello };
