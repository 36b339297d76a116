import { Flags } from '../cli/oclif.js';
import { FexCommand } from '../cli/base-command.js';
import { connectionFlags, serverFileArgs } from '../cli/flags.js';
import { messages } from '../client/messages.js';
import { progressMeter } from '../client/progress.js';

export default class Get extends FexCommand {
  static override summary = 'Fetch a file from the server.';
  static override description =
    "Downloads into the current folder, or to -o PATH (a folder, or a file name). The download is written aside and checked against the server's SHA-256 before it replaces anything.";
  static override usage = 'get <filename> [-o PATH]';
  static override examples = [
    '<%= config.bin %> get Hello.txt',
    '<%= config.bin %> get Hello.txt -o downloads/',
    '<%= config.bin %> get big.iso --discard-partial',
  ];
  static override args = serverFileArgs;
  static override flags = {
    ...connectionFlags,
    output: Flags.string({ char: 'o', summary: 'Where to write: a folder, or a file path.' }),
    'discard-partial': Flags.boolean({
      summary:
        'Remove the bytes an interrupted download to this destination holds, and download nothing.',
    }),
  };

  async run() {
    const { args, flags } = await this.parse(Get);
    if (flags['discard-partial']) {
      const { destinationFor, discardPartial } = await import('../client/download.js');
      const destination = await destinationFor(args.filename, flags.output);
      const { bytes, folder } = await discardPartial(args.filename, destination);
      this.log(messages.discarded(args.filename, bytes, folder));
      return { name: args.filename, discarded: bytes ?? 0, folder };
    }
    const meter = progressMeter(`Downloading ${args.filename}`);
    const client = await this.client(flags);
    const result = await client.get(args.filename, flags.output, meter.update).finally(meter.done);
    this.log(messages.received(result.name));
    return result;
  }
}
