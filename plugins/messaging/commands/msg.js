// @ts-check
/** Messaging, client half: `fex msg <handle> <message>` and `/msg <handle> <message>`. */
import { Args, Command } from '@oclif/core';
import { call, connectionFlags } from '../lib/call.js';

export default class Msg extends Command {
  static summary = 'Send a message to one registered user.';
  static usage = 'msg <handle> <message>';
  static examples = ['<%= config.bin %> msg Bob "Are you there?"'];
  static strict = false;
  static args = {
    handle: Args.string({ description: 'who receives it', required: true, ignoreStdin: true }),
    message: Args.string({ description: 'the message', required: true, ignoreStdin: true }),
  };
  static flags = connectionFlags;

  async run() {
    const { args, argv, flags } = await this.parse(Msg);
    const text = argv.slice(1).join(' ');
    const answer = await call(this.config, 'msg', { to: args.handle, text }, 'Message', flags);
    this.log(String(answer.line));
  }
}
