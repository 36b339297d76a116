/**
 * The one table of failures. Every failure in fex, on either end of the wire, is a FexError with
 * one of these codes; the code decides the exact line the user reads and the exit status of a
 * one-shot command. Codes starting with `E_` travel over the wire; the others only ever arise in
 * the client. docs/cli.md and docs/protocol.md list the same table.
 */

/** Exit statuses of one-shot commands, one per kind of failure (docs/cli.md). */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  connection: 3,
  notFound: 4,
  auth: 5,
  refused: 6,
  limit: 7,
  integrity: 8,
  protocol: 9,
  /** A refusal with a code this client does not know: a server plugin's (E_QUOTA_EXCEEDED...). */
  plugin: 10,
  /** Ctrl-C (SIGINT) stopped a one-shot transfer: 128 + 2, as shells report a SIGINT death. */
  interrupted: 130,
} as const;

export type ExitStatus = (typeof EXIT)[keyof typeof EXIT];

interface ErrorSpec {
  /** The line after `Error: `; `{x}` is filled from the error's details (`{x|word}`: or `word`). */
  message: string;
  exit: ExitStatus;
}

const table = {
  // Wire codes: the server answers with these.
  E_BAD_FRAME: { message: 'Malformed message from the other side: {reason}', exit: EXIT.protocol },
  E_BAD_REQUEST: {
    message: 'Command parameters do not match or is not allowed.',
    exit: EXIT.usage,
  },
  E_UNKNOWN_TYPE: {
    message: 'The server does not support "{type}". It may need a plugin.',
    exit: EXIT.protocol,
  },
  E_VERSION: { message: 'Protocol version {version} is not supported.', exit: EXIT.protocol },
  E_NOT_REGISTERED: {
    message: '{action} failed. Please register a handle first.',
    exit: EXIT.auth,
  },
  E_ALREADY_REGISTERED: {
    message: 'Registration failed. This connection is already registered as {handle}.',
    exit: EXIT.auth,
  },
  E_HANDLE_TAKEN: {
    message: 'Registration failed. Handle or alias already exists.',
    exit: EXIT.auth,
  },
  E_BAD_HANDLE: {
    message:
      'Registration failed. A handle is 1 to 32 letters, digits, "_", "-" or "." and starts with a letter or digit.',
    exit: EXIT.usage,
  },
  E_HANDLE_TOO_LONG: {
    message: 'Registration failed. This server accepts handles of at most {max} characters.',
    exit: EXIT.usage,
  },
  SERVER_CHANGED: {
    message:
      'The server at {server} is not the one that registered {handle}; your credential was not sent.',
    exit: EXIT.auth,
  },
  E_BAD_CREDENTIAL: {
    message: 'Login failed. The credential for {handle} is not valid on this server.',
    exit: EXIT.auth,
  },
  E_BAD_NAME: { message: 'File name refused: {reason}.', exit: EXIT.refused },
  E_NAME_CLASH: {
    message: 'File name refused: it differs only in case or form from {existing}.',
    exit: EXIT.refused,
  },
  E_NOT_FOUND: { message: 'File not found in the server.', exit: EXIT.notFound },
  E_NOT_OWNER: {
    // An older server sends no verb: its refusals were all of a replacement.
    message: '{name} belongs to {owner}; only its owner may {verb|replace} it.',
    exit: EXIT.refused,
  },
  E_NAME_TAKEN: {
    message: 'Rename failed. {name} already exists on the server.',
    exit: EXIT.refused,
  },
  E_BAD_EXPIRY: {
    message: 'Expiry refused: this server keeps files at most {max}.',
    exit: EXIT.limit,
  },
  E_BAD_OPERATOR_KEY: {
    message: 'Operator access refused: the key does not match this server.',
    exit: EXIT.auth,
  },
  E_TOO_LARGE: {
    message: 'File too large: {size} bytes, the server accepts at most {max}.',
    exit: EXIT.limit,
  },
  E_DISK_FULL: { message: 'The server has no space left for this file.', exit: EXIT.limit },
  E_TOO_MANY_FILES: { message: 'Upload refused: {reason}.', exit: EXIT.limit },
  E_CHECKSUM: {
    message: 'Transfer of {name} failed its checksum; nothing was kept.',
    exit: EXIT.integrity,
  },
  E_SIZE: {
    message:
      'Transfer of {name} ended at {got} bytes, {expected} were announced; nothing was kept.',
    exit: EXIT.integrity,
  },
  E_BUSY: { message: 'The server is full. Please try again later.', exit: EXIT.connection },
  E_SHUTTING_DOWN: { message: 'The server is shutting down.', exit: EXIT.connection },
  E_UNAVAILABLE: {
    message: 'The server cannot reach its {service}. Please try again in a moment.',
    exit: EXIT.connection,
  },
  E_TIMEOUT: {
    message: 'The server closed the connection: {reason}.',
    exit: EXIT.connection,
  },
  E_INTERNAL: { message: 'The server failed to handle the request: {reason}', exit: EXIT.failure },

  // Client-only codes.
  CONNECT_FAILED: {
    message: 'Connection to the Server has failed! Please check IP Address and Port Number.',
    exit: EXIT.connection,
  },
  TLS_FAILED: {
    message: 'The secure connection to the server failed: {reason}',
    exit: EXIT.connection,
  },
  NOT_CONNECTED: {
    message: '{action} failed. Please connect to the server first.',
    exit: EXIT.connection,
  },
  ALREADY_CONNECTED: {
    message: 'Connection failed. Already connected to {server}. Please /leave first.',
    exit: EXIT.usage,
  },
  SERVER_SILENT: {
    message: 'The server did not answer for {seconds} seconds; the connection was closed.',
    exit: EXIT.connection,
  },
  CONNECTION_LOST: {
    message: 'Connection to the server was lost{during}.',
    exit: EXIT.connection,
  },
  CANCELLED: {
    message: '{action} cancelled. The connection was closed; /join to connect again.',
    exit: EXIT.failure,
  },
  INTERRUPTED: {
    message: '{action} of {name} interrupted (Ctrl-C).',
    exit: EXIT.interrupted,
  },
  NO_CREDENTIAL: {
    message:
      'Login failed. This account holds no credential for {handle} on {server}; register the handle first.',
    exit: EXIT.auth,
  },
  NO_HANDLE: {
    message:
      '{action} failed. Please register first: fex register <handle> (or give --handle / FEX_HANDLE).',
    exit: EXIT.auth,
  },
  BAD_SERVER: {
    message: 'Server address "{server}" is not valid. Use host:port, e.g. 127.0.0.1:12345.',
    exit: EXIT.usage,
  },
  LOCAL_NOT_FOUND: { message: 'File not found.', exit: EXIT.notFound },
  BAD_DURATION: {
    message:
      'Duration "{value}" is not valid. Use a whole number and a unit: 90s, 30m, 12h, 7d, 2w.',
    exit: EXIT.usage,
  },
  NO_OPERATOR_KEY: {
    message:
      'Cannot read the operator key {path}: {reason}. Run this where the server runs, with --dir its folder.',
    exit: EXIT.auth,
  },
  LOCAL_IO: { message: 'Cannot {op} {path}: {reason}', exit: EXIT.failure },
  UNSAFE_NAME: {
    message: 'The server sent an unsafe file name ({reason}); nothing was written.',
    exit: EXIT.protocol,
  },
  COMMAND_NOT_FOUND: { message: 'Command not found.', exit: EXIT.usage },
  BAD_PARAMS: {
    message: 'Command parameters do not match or is not allowed.',
    exit: EXIT.usage,
  },
  SERVE_FAILED: { message: 'Cannot start the server: {reason}', exit: EXIT.failure },
  UNEXPECTED: { message: 'Unexpected failure: {reason}', exit: EXIT.failure },
} satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof table;

export const ERROR_TABLE: Readonly<Record<ErrorCode, ErrorSpec>> = table;

export type ErrorDetails = Record<string, string | number | undefined>;

/**
 * A code of a plugin's own: `E_` and capitals (`E_QUOTA_EXCEEDED`). It always comes with the
 * sentence the user reads, since no table of this client knows it.
 */
export type PluginErrorCode = `E_${Uppercase<string>}`;

/** Marks a FexError whichever copy of fex made it: a plugin may bring its own copy of fex. */
const BRAND = Symbol.for('fex.FexError');

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(table, code);
}

/** `{key}` takes the detail, or nothing; `{key|word}` takes `word` when the detail is missing. */
function fill(template: string, details: ErrorDetails): string {
  return template.replace(/\{(\w+)(?:\|([^}]*))?\}/g, (_, key: string, fallback?: string) =>
    String(details[key] ?? fallback ?? ''),
  );
}

export class FexError extends Error {
  readonly code: ErrorCode | PluginErrorCode;
  readonly details: ErrorDetails;
  readonly exit: ExitStatus;
  /** The message is the thrower's own text, not the table's (it travels so over the wire). */
  readonly custom: boolean;
  /**
   * A second line for a person: which flag or value was wrong and the one meant, how to resume.
   * The first line stays the exact one of the table, which scripts and the course match.
   */
  hint: string | undefined;

  /**
   * A built-in code: its message comes from the table, filled from `details` (or is `message`).
   * @param details values for the template's `{placeholders}`
   * @param message overrides the template with the thrower's own words
   */
  constructor(code: ErrorCode, details?: ErrorDetails, message?: string);
  /** A plugin's own code, with the sentence the user reads. */
  constructor(code: PluginErrorCode, details: ErrorDetails, message: string);
  constructor(code: ErrorCode | PluginErrorCode, details: ErrorDetails = {}, message?: string) {
    const spec = isErrorCode(code) ? ERROR_TABLE[code] : undefined;
    super(message ?? (spec ? fill(spec.message, details) : `Request failed (${code}).`));
    this.name = 'FexError';
    this.code = code;
    this.details = details;
    this.custom = message !== undefined;
    this.exit = spec?.exit ?? (code.startsWith('E_') ? EXIT.plugin : EXIT.failure);
    Object.defineProperty(this, BRAND, { value: true });
  }

  /**
   * A code that arrived from elsewhere (the wire, another copy of fex), checked by nobody's
   * compiler: an unknown code that is not `E_...` is kept but exits as a plain failure.
   */
  static of(code: string, details: ErrorDetails = {}, message?: string): FexError {
    return new FexError(code as ErrorCode, details, message);
  }

  /** True for a FexError of any copy of fex, so a plugin's errors are recognised as such. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && BRAND in value;
  }

  /** The line a user reads. */
  get line(): string {
    return `Error: ${this.message}`;
  }

  /** What is printed on stderr: the line, and the hint under it when there is one. */
  get text(): string {
    return this.hint === undefined ? this.line : `${this.line}\n${this.hint}`;
  }

  withHint(hint: string | undefined): this {
    this.hint = hint;
    return this;
  }
}

/**
 * The one errno table: what a system error code means in the words of fex's messages, and the
 * failures it stands for on either end (`missing`: a file the user named is not there; `full`:
 * the server's disk has no room, which the client must hear as E_DISK_FULL).
 */
const SYSTEM_ERRORS: Record<string, { reason: string; missing?: true; full?: true }> = {
  ENOENT: { reason: 'no such file or folder', missing: true },
  ENOTDIR: { reason: 'a part of the path is not a folder', missing: true },
  EISDIR: { reason: 'it is a folder', missing: true },
  EACCES: { reason: 'permission denied' },
  EPERM: { reason: 'permission denied' },
  ENOSPC: { reason: 'no space left on the device', full: true },
  EDQUOT: { reason: 'disk quota exceeded', full: true },
  EFBIG: { reason: 'the file is too large for this file system', full: true },
  EROFS: { reason: 'the file system is read-only' },
  EEXIST: { reason: 'it already exists' },
  EMFILE: { reason: 'too many open files' },
  ENAMETOOLONG: { reason: 'the name is too long for this file system' },
};

function systemError(error: unknown) {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return { code, known: code === undefined ? undefined : SYSTEM_ERRORS[code] };
}

/** Whether `error` is a FexError with one of `codes`. */
export function hasCode(error: unknown, ...codes: ErrorCode[]): error is FexError {
  return error instanceof FexError && (codes as string[]).includes(error.code);
}

/** Whether a system error means the disk has no room (ENOSPC, EDQUOT, EFBIG): the table says. */
export function isDiskFull(error: unknown): boolean {
  return systemError(error).known?.full === true;
}

/** A file being sent changed size since it was measured: what was sent would not be it. */
export function changedSizeError(path: string, expected: number): FexError {
  return new FexError('LOCAL_IO', {
    op: 'send',
    path,
    reason: `it changed size during the transfer (${expected} bytes expected)`,
  });
}

/** A failure of the local disk as one LOCAL_IO line: `Cannot write x: permission denied`. */
export function localIoError(op: string, path: string, error: unknown): FexError {
  if (error instanceof FexError) return error;
  const { code, known } = systemError(error);
  return new FexError('LOCAL_IO', { op, path, reason: known?.reason ?? (code || String(error)) });
}

/** Reading a file the user named: one that is not there (or is a folder) is LOCAL_NOT_FOUND. */
export function localReadError(path: string, error: unknown): FexError {
  return systemError(error).known?.missing
    ? new FexError('LOCAL_NOT_FOUND')
    : localIoError('read', path, error);
}

/**
 * A failure on the server as the client hears it: a FexError as it is, a full disk (whichever
 * backend or plugin ran into it) as E_DISK_FULL, anything else E_INTERNAL with `reason`, by
 * default the system error code (the server logs the details; the client gets no paths).
 */
export function serverFailure(error: unknown, reason?: string): FexError {
  if (error instanceof FexError) return error;
  const { code, known } = systemError(error);
  if (known?.full) return new FexError('E_DISK_FULL');
  return new FexError('E_INTERNAL', { reason: reason ?? code ?? String(error) });
}
