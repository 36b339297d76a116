import { Flags } from '@oclif/core';
import { FexCommand } from '../cli/base-command.js';
import { DEFAULT_HOST, DEFAULT_PORT, MAX_HEADER_BYTES } from '../protocol/constants.js';
import { DEFAULT_LIMITS } from '../server/limits.js';
import { FexError } from '../protocol/errors.js';

export default class Serve extends FexCommand {
  static override summary = 'Run the fex server.';
  static override description =
    'Listens for clients and stores their files in a local folder, under their own names. Prints one line when ready; stops cleanly on SIGINT or SIGTERM, leaving no partial file behind.';
  static override examples = [
    '<%= config.bin %> serve',
    '<%= config.bin %> serve --port 0 --dir /srv/fex --max-file-size 2GiB',
    '<%= config.bin %> serve --plugin ./my-plugin.js',
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
      summary: 'Most clients served at once; more are turned away with "server is full".',
      default: DEFAULT_LIMITS.maxConnections,
      min: 1,
    }),
    'idle-timeout': Flags.integer({
      summary: 'Seconds a connection may stay silent between requests; 0 keeps it forever.',
      default: DEFAULT_LIMITS.idleTimeout,
      min: 0,
    }),
    'transfer-timeout': Flags.integer({
      summary: 'Seconds without data in the middle of a transfer before the client is dropped.',
      default: DEFAULT_LIMITS.transferTimeout,
      min: 0,
    }),
    'header-timeout': Flags.integer({
      summary: 'Seconds a request header may take from its first byte to its last.',
      default: DEFAULT_LIMITS.headerTimeout,
      min: 0,
    }),
    'tls-cert': Flags.string({
      summary: 'PEM certificate chain: serve TLS (clients use fexs://host:port).',
      dependsOn: ['tls-key'],
    }),
    'tls-key': Flags.string({ summary: 'PEM private key of --tls-cert.', dependsOn: ['tls-cert'] }),
    'max-header': Flags.string({
      summary: 'Largest request header accepted, e.g. 16KiB (at most 64KiB).',
      default: '64KiB',
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Serve);
    const { parseSize } = await import('../server/sizes.js');
    const maxFileSize = parseSize(flags['max-file-size']);
    const maxHeaderBytes = parseSize(flags['max-header']);
    if (maxFileSize === undefined || !maxHeaderBytes || maxHeaderBytes > MAX_HEADER_BYTES)
      throw new FexError('BAD_PARAMS');
    const { runServer } = await import('../server/run-server.js');
    await runServer({
      host: flags.host,
      port: flags.port,
      dir: flags.dir,
      plugins: flags.plugin,
      tls:
        flags['tls-cert'] && flags['tls-key']
          ? { cert: flags['tls-cert'], key: flags['tls-key'] }
          : undefined,
      limits: {
        maxFileSize,
        maxConnections: flags['max-connections'],
        idleTimeout: flags['idle-timeout'],
        transferTimeout: flags['transfer-timeout'],
        headerTimeout: flags['header-timeout'],
        maxHeaderBytes,
      },
    });
  }
}
