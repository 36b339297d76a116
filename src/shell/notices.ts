/**
 * Lines the shell prints on its own, between commands (another user's upload): in a terminal the
 * line being typed is cleared, the notice printed, and the prompt redrawn with the typed text, so
 * nothing is lost or garbled; through pipes the line is just printed.
 */
import { clearLine, cursorTo, type Interface } from 'node:readline';

export class Notices {
  /** True while readline shows the prompt and waits for a line. */
  promptShown = false;

  constructor(
    private readonly rl: Interface,
    private readonly terminal: boolean,
    private readonly out: NodeJS.WriteStream = process.stdout,
  ) {}

  print(line: string): void {
    if (this.terminal) {
      clearLine(this.out, 0);
      cursorTo(this.out, 0);
    }
    this.out.write(`${line}\n`);
    if (this.terminal && this.promptShown) this.rl.prompt(true);
  }
}
