import { Flags } from '../cli/oclif.js';
import { FexCommand } from '../cli/base-command.js';
import { connectionFlags } from '../cli/flags.js';
import { messages } from '../client/messages.js';

export default class Dir extends FexCommand {
  static override summary = 'List the files on the server.';
  static override description =
    'Prints "Server Directory" and one name per line, in code point order. --long adds size, owner, stored time and SHA-256, separated by tabs.';
  static override usage = 'dir [--long]';
  static override examples = [
    '<%= config.bin %> dir',
    '<%= config.bin %> dir --long',
    '<%= config.bin %> dir --json',
  ];
  static override flags = {
    ...connectionFlags,
    long: Flags.boolean({ char: 'l', summary: 'Show size, owner, stored time and checksum.' }),
  };

  async run() {
    const { flags } = await this.parse(Dir);
    const files = await (await this.client(flags)).dir();
    for (const line of (flags.long ? messages.directoryLong : messages.directory)(files))
      this.log(line);
    return { files };
  }
}
