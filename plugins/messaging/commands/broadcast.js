// @ts-check
/** Messaging, client half: `fex broadcast <message>` and `/broadcast <message>` in the shell. */
import { Args } from '@oclif/core';
import { connectionFlags, FexCommand } from 'fex';

export default class Broadcast extends FexCommand {
  static summary = 'Send a message to every registered user.';
  static usage = 'broadcast <message>';
  static examples = [
    '<%= config.bin %> broadcast "Slides are up: slides.pdf"',
    '<%= config.bin %> broadcast "Slides are up" --json',
  ];
  static strict = false;
  static args = {
    message: Args.string({ description: 'the message', required: true, ignoreStdin: true }),
  };
  static flags = connectionFlags;

  async run() {
    const { argv, flags } = await this.parse(Broadcast);
    const text = argv.join(' ');
    const answer = await this.call('broadcast', { text }, { action: 'Broadcast', ...flags });
    const line = String(answer.line);
    this.log(line);
    return { line };
  }
}
