// @ts-check
/** Messaging, client half: `fex msg <handle> <message>` and `/msg <handle> <message>`. */
import { Args } from '@oclif/core';
import { connectionFlags, FexCommand } from 'fex';

export default class Msg extends FexCommand {
  static summary = 'Send a message to one registered user.';
  static usage = 'msg <handle> <message>';
  static examples = [
    '<%= config.bin %> msg Bob "Are you there?"',
    '<%= config.bin %> msg Bob "Are you there?" --json',
  ];
  static strict = false;
  static args = {
    handle: Args.string({ description: 'who receives it', required: true, ignoreStdin: true }),
    message: Args.string({ description: 'the message', required: true, ignoreStdin: true }),
  };
  static flags = connectionFlags;

  async run() {
    const { args, argv, flags } = await this.parse(Msg);
    const text = argv.slice(1).join(' ');
    const fields = { to: args.handle, text };
    const answer = await this.call('msg', fields, { action: 'Message', ...flags });
    const line = String(answer.line);
    this.log(line);
    return { line };
  }
}
