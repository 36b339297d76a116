import { Flags } from '@oclif/core';
import { FexCommand } from '../cli/base-command.js';
import { DEFAULT_HOST, DEFAULT_PORT } from '../protocol/constants.js';
import { FexError } from '../protocol/errors.js';

export default class Serve extends FexCommand {
  static override summary = 'Run the fex server.';
  static override description =
    'Listens for clients and stores their files in a local folder, under their own names. Prints one line when ready; stops cleanly on SIGINT or SIGTERM, leaving no partial file behind.';
  static override examples = [
    '<%= config.bin %> serve',
    '<%= config.bin %> serve --port 0 --dir /srv/fex --max-file-size 2GiB',
    '<%= config.bin %> serve --plugin ./plugins/audit-log/index.js',
  ];
  static override enableJsonFlag = false;
  static override flags = {
    host: Flags.string({ summary: 'Address to listen on.', default: DEFAULT_HOST }),
    port: Flags.integer({
      summary: 'Port to listen on (0 picks a free one).',
      default: DEFAULT_PORT,
      min: 0,
      max: 65535,
    }),
    dir: Flags.string({
      summary: 'Folder the files are stored in (created if missing).',
      default: './server-files',
    }),
    plugin: Flags.string({
      summary: 'A server plugin to load: a path or a package name. Repeatable.',
      multiple: true,
      default: [],
    }),
    'max-file-size': Flags.string({
      summary: 'Largest file accepted, e.g. 500MiB or 2GiB.',
      default: '16GiB',
    }),
    'max-connections': Flags.integer({
      summary: 'Most clients served at once.',
      default: 1024,
      min: 1,
    }),
    'idle-timeout': Flags.integer({
      summary: 'Seconds a silent connection is kept; 0 keeps it forever.',
      default: 900,
      min: 0,
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Serve);
    const { parseSize } = await import('../server/sizes.js');
    const maxFileSize = parseSize(flags['max-file-size']);
    if (maxFileSize === undefined) throw new FexError('BAD_PARAMS');
    const { runServer } = await import('../server/run-server.js');
    await runServer({
      host: flags.host,
      port: flags.port,
      dir: flags.dir,
      plugins: flags.plugin,
      limits: {
        maxFileSize,
        maxConnections: flags['max-connections'],
        idleTimeout: flags['idle-timeout'],
      },
    });
  }
}
