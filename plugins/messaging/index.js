// @ts-check
/**
 * Messaging, server half: `broadcast {text}` sends a message to every other registered user,
 * `msg {to, text}` to the connections of one handle. Each receiver gets an event frame
 * `{event: "message", from, to?, text, time, line}`; fex's shell prints its `line`.
 *
 * Built only on fex's plugin SDK (the `fex` package), as a plugin outside this repository is.
 */
import { definePlugin, PLUGIN_API_VERSION } from 'fex';

const MAX_TEXT = 1000;

/** @param {number} n */
const pad = (n) => String(n).padStart(2, '0');

/** @param {Date} d `YYYY-MM-DD HH:MM:SS`, the form of fex's upload lines. */
function stamp(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * @param {import('fex').RequestContext} ctx
 * @param {string} text
 */
function checked(ctx, text) {
  const value = text.trim();
  if (value.length === 0) throw ctx.server.fail('E_MSG_EMPTY', 'The message is empty.');
  if (value.length > MAX_TEXT)
    throw ctx.server.fail('E_MSG_TOO_LONG', `The message is longer than ${MAX_TEXT} characters.`);
  return value;
}

export default function messaging() {
  return definePlugin({
    name: 'messaging',
    apiVersion: PLUGIN_API_VERSION,
    handlers: {
      broadcast: {
        params: { text: 'string' },
        async run(ctx, request) {
          const from = /** @type {string} */ (ctx.connection.handle);
          const text = checked(ctx, request.text);
          const now = new Date();
          const line = `${from}<${stamp(now)}>: ${text}`;
          ctx.server.broadcast(
            { event: 'message', from, text, time: now.getTime(), line },
            ctx.connection,
          );
          await ctx.reply({ line });
        },
      },
      msg: {
        params: { to: 'string', text: 'string' },
        async run(ctx, request) {
          const from = /** @type {string} */ (ctx.connection.handle);
          const to = request.to;
          const text = checked(ctx, request.text);
          if (!(await ctx.server.handles.has(to)))
            throw ctx.server.fail(
              'E_MSG_UNKNOWN_HANDLE',
              `No user "${to}" is registered on this server.`,
            );
          const now = new Date();
          const line = `${from}<${stamp(now)}> to you: ${text}`;
          const delivered = ctx.server.sendTo(to, {
            event: 'message',
            from,
            to,
            text,
            time: now.getTime(),
            line,
          });
          if (delivered === 0)
            throw ctx.server.fail(
              'E_MSG_OFFLINE',
              `${to} is not connected; the message was not delivered.`,
            );
          await ctx.reply({ line: `${from}<${stamp(now)}> to ${to}: ${text}` });
        },
      },
    },
  });
}
