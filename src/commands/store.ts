import { Args, Flags } from '../cli/oclif.js';
import { FexCommand } from '../cli/base-command.js';
import { connectionFlags } from '../cli/flags.js';
import { messages } from '../client/messages.js';
import { progressMeter } from '../client/progress.js';
import { expirySeconds } from '../protocol/duration.js';

export default class Store extends FexCommand {
  static override summary = 'Send a file to the server.';
  static override description =
    'Uploads the file under its base name. It becomes visible on the server only once it has arrived whole and its checksum matched. Storing a name again replaces it, if you stored it. --expires keeps it only that long (30m, 12h, 7d, 2w; "never" for no expiry), within the server\'s maximum; without it the server\'s default applies.';
  static override usage = 'store <filename>';
  static override examples = [
    '<%= config.bin %> store Hello.txt',
    '<%= config.bin %> store Hello.txt --server 127.0.0.1:12345 --handle User1',
    '<%= config.bin %> store Hello.txt --expires 7d',
  ];
  static override args = {
    filename: Args.string({
      description: 'the local file to send',
      required: true,
      ignoreStdin: true,
    }),
  };
  static override flags = {
    ...connectionFlags,
    expires: Flags.string({
      summary: 'Delete it after this long: 90s, 30m, 12h, 7d, 2w, or "never".',
    }),
  };

  async run() {
    const { args, flags } = await this.parse(Store);
    const expires = flags.expires === undefined ? undefined : expirySeconds(flags.expires);
    const meter = progressMeter(`Uploading ${args.filename}`);
    const client = await this.client(flags);
    const result = await client.store(args.filename, meter.update, { expires }).finally(meter.done);
    this.log(messages.uploaded(result.handle, result.name, result.time));
    return result;
  }
}
