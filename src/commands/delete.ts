import { FexCommand } from '../cli/base-command.js';
import { connectionFlags, serverFileArgs } from '../cli/flags.js';
import { messages } from '../client/messages.js';

export default class Delete extends FexCommand {
  static override summary = 'Delete a file you stored on the server.';
  static override description =
    'Only the handle that stored a file may delete it. The file disappears at once and whole: a download already under way still gets the old bytes, the next one is told "File not found in the server." Other users see the deletion as it happens.';
  static override usage = 'delete <filename>';
  static override examples = [
    '<%= config.bin %> delete Hello.txt',
    '<%= config.bin %> delete Hello.txt --server 127.0.0.1:12345 --handle User1',
  ];
  static override args = serverFileArgs;
  static override flags = connectionFlags;

  async run() {
    const { args, flags } = await this.parse(Delete);
    const result = await (await this.client(flags)).delete(args.filename);
    this.log(messages.deleted(result.handle, result.name, result.at));
    return result;
  }
}
