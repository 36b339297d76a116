// @ts-check
/** The client half: `fex note <file> <text...>`, and `fex note <file>` to read a file's notes. */
import { Args } from '@oclif/core';
import { connectionFlags, FexCommand } from 'fex';

export default class Note extends FexCommand {
  static summary = 'Keep a note on a stored file, or read its notes.';
  static usage = 'note <file> [text...]';
  static examples = [
    '<%= config.bin %> note Hello.txt "Checked, all good."',
    '<%= config.bin %> note Hello.txt --json',
  ];
  static strict = false;
  static args = {
    file: Args.string({ description: 'a file on the server', required: true, ignoreStdin: true }),
  };
  static flags = connectionFlags;

  async run() {
    const { args, argv, flags } = await this.parse(Note);
    const text = argv.slice(1).join(' ');
    if (text === '') {
      const answer = await this.call('notes', { name: args.file }, { action: 'Notes', ...flags });
      const notes = /** @type {string[]} */ (answer.notes);
      for (const note of notes) this.log(note);
      return { name: args.file, notes };
    }
    const answer = await this.call('note', { name: args.file, text }, { action: 'Note', ...flags });
    this.log(`Noted ${args.file} (${answer.count} notes).`);
    return { name: args.file, count: answer.count };
  }
}
