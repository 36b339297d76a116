/**
 * The command table of the empty CLI: one trivial command in one module. It takes oclif's
 * Command class through `require`, as fex's src/cli/oclif.ts does, so the empty CLI pays what fex
 * pays to load oclif and no more. With one command, oclif's explicit strategy does the same work
 * as fex's manifest plus one command module.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Command } = require('@oclif/core/command');

class Hello extends Command {
  static summary = 'Say hello.';

  async run() {
    this.log('hello');
  }
}

export const COMMANDS = { hello: Hello };
