import { FexCommand } from '../cli/base-command.js';
import { messages } from '../client/messages.js';

export default class Leave extends FexCommand {
  static override summary = 'Disconnect from the server.';
  static override description =
    'One-shot: forgets the server remembered by `fex join`. In the shell: closes the connection.';
  static override usage = 'leave';
  static override examples = ['<%= config.bin %> leave'];

  async run() {
    await this.parse(Leave);
    const result = await (await this.client()).leave();
    this.log(messages.left());
    return result;
  }
}
