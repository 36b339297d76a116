import { Flags } from '../cli/oclif.js';
import { FexCommand } from '../cli/base-command.js';
import { DEFAULT_HOST, DEFAULT_PORT } from '../protocol/constants.js';
import { DEFAULT_LIMITS } from '../server/limits.js';
import { LOG_FORMATS } from '../server/serve-options.js';

export default class Serve extends FexCommand {
  static override summary = 'Run the fex server.';
  static override description =
    'Listens for clients and stores their files in a local folder, under their own names. Prints one line when ready; stops cleanly on SIGINT or SIGTERM, never leaving a partial file visible.';
  static override usage = 'serve [flags]';
  static override examples = [
    '<%= config.bin %> serve',
    '<%= config.bin %> serve --port 0 --dir /srv/fex --max-file-size 2GiB',
    '<%= config.bin %> serve --plugin ./my-plugin.js',
    '<%= config.bin %> serve --config fex.config.json',
    '<%= config.bin %> serve --max-age 30d --default-age 7d',
    '<%= config.bin %> serve --log-format json',
    'AWS_ENDPOINT_URL_S3=http://127.0.0.1:9000 <%= config.bin %> serve --storage s3://fex-files --s3-path-style',
    '<%= config.bin %> serve --state redis://127.0.0.1:6379/0',
  ];
  static override enableJsonFlag = false;
  static override flags = {
    config: Flags.string({
      summary:
        'A JSON config file (host, port, dir, limits, plugins with options; see docs/plugins.md).',
    }),
    host: Flags.string({ summary: `Address to listen on. Default ${DEFAULT_HOST}.` }),
    port: Flags.integer({
      summary: `Port to listen on (0 picks a free one). Default ${DEFAULT_PORT}.`,
      min: 0,
      max: 65535,
    }),
    dir: Flags.string({
      summary: 'Folder the files are stored in (created if missing). Default ./server-files.',
    }),
    plugin: Flags.string({
      summary: 'A server plugin to load: a path or a package name. Repeatable.',
      multiple: true,
    }),
    'max-file-size': Flags.string({
      summary: 'Largest file accepted, e.g. 500MiB. Default 16GiB.',
    }),
    'max-connections': Flags.integer({
      summary: `Most clients served at once; more are told the server is full. Default ${DEFAULT_LIMITS.maxConnections}.`,
      min: 1,
    }),
    'idle-timeout': Flags.integer({
      summary: `Seconds a connection may stay silent between requests; 0 for ever. Default ${DEFAULT_LIMITS.idleTimeout}.`,
      min: 0,
    }),
    'transfer-timeout': Flags.integer({
      summary: `Seconds without data in the middle of a transfer before the client is dropped. Default ${DEFAULT_LIMITS.transferTimeout}.`,
      min: 0,
    }),
    'header-timeout': Flags.integer({
      summary: `Seconds a request header may take from its first byte to its last. Default ${DEFAULT_LIMITS.headerTimeout}.`,
      min: 0,
    }),
    'max-header': Flags.string({
      summary: 'Largest request header accepted, at most 64KiB. Default 64KiB.',
    }),
    'max-name-bytes': Flags.integer({
      summary: `Longest file name accepted, in bytes (1 to 255). Default ${DEFAULT_LIMITS.maxNameBytes}.`,
      min: 1,
      max: 255,
    }),
    'max-handle-length': Flags.integer({
      summary: `Longest handle accepted (1 to 32). Default ${DEFAULT_LIMITS.maxHandleLength}.`,
      min: 1,
      max: 32,
    }),
    'max-age': Flags.string({
      summary:
        'Longest a file is kept, e.g. 30d; longer --expires are refused, files stored without one expire after it. Default: no limit.',
    }),
    'default-age': Flags.string({
      summary:
        'How long a file stored without --expires is kept, e.g. 7d (at most --max-age). Default: --max-age, else for ever.',
    }),
    'max-files': Flags.integer({
      summary: `Most files stored in all; 0 for no limit. Default ${DEFAULT_LIMITS.maxFiles}.`,
      min: 0,
    }),
    'max-files-per-handle': Flags.integer({
      summary: `Most files one handle may own; 0 for no limit. Default ${DEFAULT_LIMITS.maxFilesPerHandle}.`,
      min: 0,
    }),
    'max-connections-per-handle': Flags.integer({
      summary: `Most connections of one handle; a new one closes its oldest idle one. 0 for no limit. Default ${DEFAULT_LIMITS.maxConnectionsPerHandle}.`,
      min: 0,
    }),
    'max-connections-per-address': Flags.integer({
      summary: `Most connections from one IP address; more are told the server is full. 0 for no limit. Default ${DEFAULT_LIMITS.maxConnectionsPerAddress}.`,
      min: 0,
    }),
    'tls-cert': Flags.string({
      summary: 'PEM certificate chain: serve TLS (clients use fexs://host:port).',
      dependsOn: ['tls-key'],
    }),
    'tls-key': Flags.string({ summary: 'PEM private key of --tls-cert.', dependsOn: ['tls-cert'] }),
    'log-format': Flags.string({
      summary:
        'The log on stdout: text lines, or JSON lines (pino’s shape) for log tools. Default text.',
      options: [...LOG_FORMATS],
    }),
    storage: Flags.string({
      summary:
        'Keep the files in an S3-compatible object store, s3://BUCKET[/PREFIX]; endpoint, region and keys as the AWS SDK reads them (AWS_ENDPOINT_URL_S3, AWS_REGION, AWS_ACCESS_KEY_ID...). Default: the --dir folder.',
    }),
    's3-path-style': Flags.boolean({
      summary: 'Address the bucket in the URL path (http://host/bucket), as MinIO and Swift need.',
    }),
    's3-part-size': Flags.string({
      summary: 'Part size of multipart uploads to the object store, at least 5MiB. Default 8MiB.',
    }),
    'partial-expiry': Flags.string({
      summary: 'How long a cut-off upload is kept for resuming, e.g. 12h. Default 1d.',
    }),
    'proxy-protocol': Flags.string({
      summary:
        "Trusted TCP balancers (haproxy send-proxy-v2), e.g. 127.0.0.1,10.0.0.0/8: their connections must start with a PROXY header, whose client address is then the connection's (docs/scaling.md). Default: none.",
    }),
    state: Flags.string({
      summary:
        'Share handles and events with every server given the same Redis: redis://HOST:PORT[/DB] (docs/scaling.md). Default: this server alone.',
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Serve);
    const { resolveServeOptions } = await import('../server/serve-options.js');
    const { runServer } = await import('../server/run-server.js');
    await runServer(await resolveServeOptions(flags));
  }
}
