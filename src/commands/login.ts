import { Args } from '../cli/oclif.js';
import { FexCommand } from '../cli/base-command.js';
import { connectionFlags } from '../cli/flags.js';
import { messages } from '../client/messages.js';

export default class Login extends FexCommand {
  static override summary = 'Act as a handle this account already holds.';
  static override description =
    'Logs in with the credential this account kept when it registered the handle (with `register`, in a shell or one-shot), and never registers. In the shell: this connection acts as the handle. One-shot: checks the credential with the server and makes the handle the default for later commands.';
  static override usage = 'login <handle>';
  static override examples = ['<%= config.bin %> login User1'];
  static override args = {
    handle: Args.string({
      description: 'a handle registered earlier',
      required: true,
      ignoreStdin: true,
    }),
  };
  static override flags = { server: connectionFlags.server };

  async run() {
    const { args, flags } = await this.parse(Login);
    const result = await (await this.client(flags)).login(args.handle);
    this.log(messages.welcome(result.handle));
    return result;
  }
}
