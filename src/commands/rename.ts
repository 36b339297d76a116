import { Args } from '../cli/oclif.js';
import { FexCommand } from '../cli/base-command.js';
import { connectionFlags } from '../cli/flags.js';
import { messages } from '../client/messages.js';

export default class Rename extends FexCommand {
  static override summary = 'Rename a file you stored on the server.';
  static override description =
    'Only the handle that stored a file may rename it. The new name follows the rules of a store, and must not be taken: a rename never replaces a file. The file keeps its owner, stored time and expiry; other users see the rename as it happens.';
  static override usage = 'rename <old> <new>';
  static override examples = [
    '<%= config.bin %> rename Hello.txt Greeting.txt',
    '<%= config.bin %> rename "draft 1.txt" final.txt --server 127.0.0.1:12345 --handle User1',
  ];
  static override args = {
    old: Args.string({ description: 'the name on the server', required: true, ignoreStdin: true }),
    new: Args.string({ description: 'the name it gets', required: true, ignoreStdin: true }),
  };
  static override flags = connectionFlags;

  async run() {
    const { args, flags } = await this.parse(Rename);
    const result = await (await this.client(flags)).rename(args.old, args.new);
    this.log(messages.renamed(result.handle, args.old, result.name, result.at));
    return result;
  }
}
