/**
 * The `fex:call` hook's contract (docs/plugins.md, "The fex:call hook"), declared in oclif's own
 * hook typing so that `this.config.runHook('fex:call', ...)` is checked like oclif's hooks.
 */

/** What a command asks of `fex:call`: one request to the server the user is using. */
export type CallOptions = {
  /** The request type a server plugin serves. */
  type: string;
  /** The request's fields (besides `type` and `id`, which fex adds). */
  fields?: Record<string, unknown>;
  /**
   * Names the command in errors that say what failed: "<action> failed. Please connect to the
   * server first." Default: the type.
   */
  action?: string;
  /** The command's --server and --handle (one-shot use); the shell's session ignores them. */
  server?: string;
  handle?: string;
  /**
   * true (the default): a failure is printed as one `Error: ...` line on stderr and ends the
   * command with its exit status (an oclif ExitError). false: the FexError itself is the hook's
   * failure, for the caller to report (FexCommand does, so `--json` can print it as JSON).
   */
  report?: boolean;
};

/**
 * The server's answer: the whole `ok` header, the handler's fields with `type` and `id`. Strings
 * are made printable (no escape sequences, no direction overrides) before a command sees them.
 */
export type CallAnswer = { type: 'ok'; id: number; [field: string]: unknown };

declare module '@oclif/core/hooks' {
  interface Hooks {
    'fex:call': { options: CallOptions; return: CallAnswer };
  }
}
