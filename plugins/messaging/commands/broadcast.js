// @ts-check
/** Messaging, client half: `fex broadcast <message>` and `/broadcast <message>` in the shell. */
import { Args, Command } from '@oclif/core';
import { call, connectionFlags } from '../lib/call.js';

export default class Broadcast extends Command {
  static summary = 'Send a message to every registered user.';
  static usage = 'broadcast <message>';
  static examples = ['<%= config.bin %> broadcast "Slides are up: slides.pdf"'];
  static strict = false;
  static args = {
    message: Args.string({ description: 'the message', required: true, ignoreStdin: true }),
  };
  static flags = connectionFlags;

  async run() {
    const { argv, flags } = await this.parse(Broadcast);
    const answer = await call(
      this.config,
      'broadcast',
      { text: argv.join(' ') },
      'Broadcast',
      flags,
    );
    this.log(String(answer.line));
  }
}
