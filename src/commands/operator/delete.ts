import { Flags } from '../../cli/oclif.js';
import { serverFileArgs } from '../../cli/flags.js';
import { FexCommand } from '../../cli/base-command.js';
import { messages } from '../../client/messages.js';

export default class OperatorDelete extends FexCommand {
  static override summary = "Delete any file, as the server's operator.";
  static override description =
    'For the operator of a running server, on its machine: reads the operator key the server keeps in its folder (--dir, as given to fex serve) and asks the server to delete the file, whoever stored it. The server writes an audit line to its log; users see the deletion by (operator). Not a shell command.';
  static override usage = 'operator delete <filename> [--dir DIR] [--server HOST:PORT]';
  static override examples = [
    '<%= config.bin %> operator delete Hello.txt',
    '<%= config.bin %> operator delete Hello.txt --dir /srv/fex --server 127.0.0.1:12345',
  ];
  static override args = serverFileArgs;
  static override flags = {
    dir: Flags.string({
      summary: "The server's folder, as given to fex serve --dir. Default ./server-files.",
      default: 'server-files',
    }),
    server: Flags.string({
      summary: 'The server as host:port; else FEX_SERVER, else 127.0.0.1:12345.',
      env: 'FEX_SERVER',
    }),
  };

  async run() {
    const { args, flags } = await this.parse(OperatorDelete);
    const { operatorDelete } = await import('../../client/operator.js');
    const result = await operatorDelete(args.filename, flags.dir, flags.server);
    this.log(messages.deleted(undefined, result.name, result.at));
    return result;
  }
}
