import { Flags } from '../cli/oclif.js';
import { FexCommand } from '../cli/base-command.js';
import { connectionFlags } from '../cli/flags.js';
import { messages } from '../client/messages.js';
import type { FileEntry } from '../protocol/constants.js';

export default class Dir extends FexCommand {
  static override summary = 'List the files on the server.';
  static override description =
    'Prints "Server Directory" and one name per line, in code point order. --long adds size, owner, stored time and SHA-256, separated by tabs. Large listings are fetched and printed a page at a time.';
  static override usage = 'dir [--long]';
  static override examples = [
    '<%= config.bin %> dir',
    '<%= config.bin %> dir --long',
    '<%= config.bin %> dir --prefix report --limit 20',
    '<%= config.bin %> dir --json',
  ];
  static override flags = {
    ...connectionFlags,
    long: Flags.boolean({ char: 'l', summary: 'Show size, owner, stored time and checksum.' }),
    prefix: Flags.string({ summary: 'List only the names that start with this text.' }),
    limit: Flags.integer({ summary: 'List at most this many files.', min: 1 }),
  };

  async run() {
    const { flags } = await this.parse(Dir);
    // Printed page by page as they arrive; kept only for --json, which prints them all at the end.
    const files: FileEntry[] = [];
    const json = this.jsonEnabled();
    let titled = false;
    const onPage = (entries: FileEntry[]) => {
      if (!titled) this.log(messages.directoryTitle());
      titled = true;
      if (json) files.push(...entries);
      else for (const entry of entries) this.log(messages.directoryEntry(entry, flags.long));
    };
    const client = await this.client(flags);
    await client.dir({ prefix: flags.prefix, limit: flags.limit, onPage });
    return { files };
  }
}
