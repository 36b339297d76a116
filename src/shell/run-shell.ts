/**
 * The interactive shell: reads lines and runs them one at a time on one open session. In a
 * terminal it has a prompt, history, completion and Ctrl-C handling; through pipes it prints
 * exactly what each line prints, flushed before the next line is read, so another program can
 * drive it line by line.
 */
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { Config } from '@oclif/core';
import { installClient } from '../client/client.js';
import { ShellClient } from '../client/shell-client.js';
import { Notices } from './notices.js';
import { promptFor } from './prompt.js';
import { LineQueue } from './line-queue.js';
import { runLine } from './run-line.js';
import { MAX_RUN, runStores, storedPath, storeRunsAsBuilt } from './store-run.js';
import { shellCommands } from './shell-commands.js';
import { flushOutput } from '../cli/flush-output.js';

export interface ShellOptions {
  /** Stop at the first failing line, as `sftp -b` does. */
  stopOnError: boolean;
}

/** Ctrl-C at the prompt: an empty line says how to leave; otherwise the line is cleared. */
function clearLine(rl: Interface, notices: Notices): void {
  if (rl.line === '') {
    notices.print('(To end the shell, type /exit or press Ctrl-D.)');
    return;
  }
  rl.write(null, { ctrl: true, name: 'e' });
  rl.write(null, { ctrl: true, name: 'u' });
}

/**
 * The line reader on stdin: in a terminal with a prompt, history (saved as it changes; `saved()`
 * resolves once the last change is written) and completion; through pipes a bare one.
 */
async function lineReader(
  config: Config,
  interactive: boolean,
  serverNames: () => Promise<string[]>,
): Promise<{ rl: Interface; saved: () => Promise<void> }> {
  const historyFile = join(config.dataDir, 'shell-history');
  // History and completion only serve a terminal: a pipe does not load them.
  const { complete } = interactive ? await import('./completer.js') : { complete: undefined };
  const historyStore = interactive ? await import('./history.js') : undefined;
  const sources = { commands: shellCommands(config), cwd: () => process.cwd(), serverNames };
  const rl = createInterface({
    input: process.stdin,
    // Through pipes readline writes nothing at all: no prompt, no echo.
    output: interactive ? process.stdout : undefined,
    terminal: interactive,
    history: historyStore ? await historyStore.loadHistory(historyFile) : [],
    historySize: historyStore ? historyStore.HISTORY_SIZE : 0,
    removeHistoryDuplicates: true,
    prompt: '',
    completer: complete
      ? (line: string, done: (error: null, result: [string[], string]) => void) =>
          void complete(line, sources).then((result) => done(null, result))
      : undefined,
  });
  let saving = Promise.resolve();
  if (interactive)
    rl.on('history', (entries: string[]) => {
      saving = saving
        .then(() => historyStore?.saveHistory(historyFile, entries))
        .catch(() => undefined);
    });
  return { rl, saved: () => saving };
}

/**
 * Runs the shell until /exit or end of input; resolves with whether it should exit non-zero:
 * through pipes, whether any line failed (a script's caller needs to know). A person at a
 * terminal who typed /exit or Ctrl-D has seen each failure already and ends with 0.
 */
export async function runShell(config: Config, options: ShellOptions): Promise<boolean> {
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  // Read when Tab is pressed, by which time the client below exists.
  const { rl, saved } = await lineReader(config, interactive, () => client.serverNames());
  const notices = new Notices(rl, interactive);
  const client = new ShellClient({
    configDir: config.configDir,
    progress: interactive,
    onFileEvent: (line) => notices.print(line),
    onNotice: (line) => notices.print(line),
    onClose: () => showPrompt(true),
  });
  const showPrompt = (redraw = false) => {
    if (!interactive || (redraw && !notices.promptShown)) return;
    rl.setPrompt(promptFor(client));
    notices.promptShown = true;
    rl.prompt(redraw);
  };

  let running = false;
  if (interactive) {
    rl.on('SIGINT', () => {
      // Ctrl-C cuts a transfer in flight, clears the line at the prompt, and never ends the shell.
      if (client.cancel() || running) return;
      clearLine(rl, notices);
    });
  }

  installClient(client);
  let failed = false;
  let ended = false;
  rl.once('close', () => (ended = true));
  const lines = new LineQueue(rl);
  // Sending a run of stores together changes nothing a pipe's reader sees (see store-run.ts).
  const pipelined = !interactive && !options.stopOnError && storeRunsAsBuilt(config);
  try {
    showPrompt();
    for (let line = await lines.next(); line !== undefined; line = await lines.next()) {
      notices.promptShown = false;
      running = true;
      const first = pipelined && client.handle ? storedPath(line) : undefined;
      const result =
        first === undefined
          ? await runLine(config, line)
          : await runStores(client, [first, ...lines.takeWhile(storedPath, MAX_RUN - 1)]);
      running = false;
      await flushOutput();
      if (result === 'exit') break;
      if (result === 'failed') {
        failed = true;
        if (options.stopOnError) break;
      }
      showPrompt();
    }
    // Ctrl-D leaves the cursor after the prompt; end the line as a shell does.
    if (interactive && ended && notices.promptShown) process.stdout.write('\n');
  } finally {
    rl.close();
    installClient(undefined);
    await client.close();
    await saved();
  }
  return failed && !interactive;
}
