// @ts-check
/**
 * The server half: `note {name, text}` keeps a short note on a stored file, `notes {name}` reads
 * them back. Notes live in memory, for as long as the server runs.
 */
import { definePlugin, FexError, nameProblem, PLUGIN_API_VERSION } from 'fex';

const MAX_NOTE = 200;

/** @param {{ max?: number }} [options] how many notes a file may have (default 10) */
export default function notes(options = {}) {
  const max = options.max ?? 10;
  /** @type {Map<string, string[]>} file name -> its notes */
  const kept = new Map();

  /**
   * The notes of a stored file; refuses a name against the rules and a file not stored.
   * @param {import('fex').RequestContext} ctx
   * @param {string} name
   */
  async function notesOf(ctx, name) {
    const problem = nameProblem(name);
    // A built-in code with its own words: "File name refused: <reason>." (exit status 6).
    if (problem) throw new FexError('E_BAD_NAME', { name, reason: problem });
    const stored = (await ctx.server.files.list()).some((file) => file.name === name);
    // A built-in code in this plugin's words: the client prints them (exit status 4).
    if (!stored) throw ctx.server.fail('E_NOT_FOUND', `No file "${name}" on this server to note.`);
    return kept.get(name) ?? [];
  }

  return definePlugin({
    name: 'notes',
    apiVersion: PLUGIN_API_VERSION,
    handlers: {
      note: {
        params: { name: 'string', text: 'string' },
        async run(ctx, request) {
          const list = await notesOf(ctx, request.name);
          const text = request.text.trim();
          // Codes of the plugin's own, with their sentences (exit status 10).
          if (text.length === 0 || text.length > MAX_NOTE)
            throw ctx.server.fail('E_NOTES_LENGTH', `A note is 1 to ${MAX_NOTE} characters.`);
          if (list.length >= max)
            throw ctx.server.fail('E_NOTES_FULL', `${request.name} has ${max} notes already.`);
          kept.set(request.name, [...list, `${ctx.connection.handle}: ${text}`]);
          await ctx.reply({ name: request.name, count: list.length + 1 });
        },
      },
      notes: {
        params: { name: 'string' },
        async run(ctx, request) {
          await ctx.reply({ name: request.name, notes: await notesOf(ctx, request.name) });
        },
      },
    },
  });
}
