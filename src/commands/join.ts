import { Args } from '../cli/oclif.js';
import { FexCommand } from '../cli/base-command.js';
import { messages } from '../client/messages.js';

export default class Join extends FexCommand {
  static override summary = 'Connect to a fex server.';
  static override description =
    'One-shot: checks that the server answers and remembers it as the default server of later commands. In the shell: opens the connection.';
  static override usage = 'join <server_ip_add> <port>';
  static override examples = ['<%= config.bin %> join 127.0.0.1 12345'];
  static override args = {
    host: Args.string({ description: 'server address', required: true, ignoreStdin: true }),
    port: Args.string({ description: 'server port', required: true, ignoreStdin: true }),
  };

  async run() {
    const { args } = await this.parse(Join);
    const result = await (await this.client()).join(args.host, args.port);
    this.log(messages.joined());
    return result;
  }
}
