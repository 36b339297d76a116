import { Flags } from '../cli/oclif.js';
import { FexCommand } from '../cli/base-command.js';

export default class Shell extends FexCommand {
  static override summary = 'Start the interactive shell (also: fex with no arguments).';
  static override description =
    'Reads slash commands (/join, /register, /store, /dir, /get, /leave, /?, /exit) and keeps one connection open between them. In a terminal it has a prompt, history and Tab completion; through pipes it runs the lines one at a time without prompt, and exits with status 1 if any line failed (in a terminal, /exit and Ctrl-D exit 0).';
  static override usage = 'shell [--stop-on-error]';
  static override examples = [
    '<%= config.bin %>',
    '<%= config.bin %> < script.txt',
    '<%= config.bin %> shell --stop-on-error < script.txt',
  ];
  static override enableJsonFlag = false;
  static override flags = {
    'stop-on-error': Flags.boolean({ summary: 'Stop at the first line that fails.' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Shell);
    const { runShell } = await import('../shell/run-shell.js');
    const failed = await runShell(this.config, { stopOnError: flags['stop-on-error'] });
    if (failed) this.exit(1);
  }
}
