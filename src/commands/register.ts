import { Args } from '../cli/oclif.js';
import { FexCommand } from '../cli/base-command.js';
import { connectionFlags } from '../cli/flags.js';
import { messages } from '../client/messages.js';

export default class Register extends FexCommand {
  static override summary = 'Register a unique handle or alias.';
  static override description =
    'Claims the handle on the server. The client keeps the credential the server returns, so later commands can act as this handle again. One-shot: registering a handle this account already holds logs in with it. In the shell: a handle held by anyone but this shell, another terminal of this account included, is refused; `/login <handle>` acts as a handle this account holds.';
  static override usage = 'register <handle>';
  static override examples = ['<%= config.bin %> register User1'];
  static override args = {
    handle: Args.string({ description: 'the handle to claim', required: true, ignoreStdin: true }),
  };
  static override flags = { server: connectionFlags.server };

  async run() {
    const { args, flags } = await this.parse(Register);
    const result = await (await this.client(flags)).register(args.handle);
    this.log(messages.welcome(result.handle));
    return result;
  }
}
