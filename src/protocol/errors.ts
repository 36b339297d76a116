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
} as const;

export type ExitStatus = (typeof EXIT)[keyof typeof EXIT];

interface ErrorSpec {
  /** The line after `Error: `; `{x}` is filled from the error's details. */
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
    message: '{name} belongs to {owner}; only its owner may replace it.',
    exit: EXIT.refused,
  },
  E_TOO_LARGE: {
    message: 'File too large: {size} bytes, the server accepts at most {max}.',
    exit: EXIT.limit,
  },
  E_DISK_FULL: { message: 'The server has no space left for this file.', exit: EXIT.limit },
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

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(table, code);
}

function fill(template: string, details: ErrorDetails): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => String(details[key] ?? ''));
}

export class FexError extends Error {
  readonly code: ErrorCode | string;
  readonly details: ErrorDetails;
  readonly exit: ExitStatus;

  /**
   * @param code a code of the table, or a plugin's own code (then `message` must be given)
   * @param details values for the template's `{placeholders}`
   * @param message overrides the template (a plugin's code, or the server's text for one)
   */
  constructor(code: ErrorCode | string, details: ErrorDetails = {}, message?: string) {
    const spec = isErrorCode(code) ? ERROR_TABLE[code] : undefined;
    super(message ?? (spec ? fill(spec.message, details) : `Request failed (${code}).`));
    this.name = 'FexError';
    this.code = code;
    this.details = details;
    this.exit = spec?.exit ?? (code.startsWith('E_') ? EXIT.plugin : EXIT.failure);
  }

  /** The line a user reads. */
  get line(): string {
    return `Error: ${this.message}`;
  }
}

/** What a system error code means, in the words of the rest of fex's messages. */
const SYSTEM_REASONS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'it is a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is read-only',
  EEXIST: 'it already exists',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'the name is too long for this file system',
};

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
  const code = (error as NodeJS.ErrnoException)?.code ?? '';
  const reason = SYSTEM_REASONS[code] ?? (code || String(error));
  return new FexError('LOCAL_IO', { op, path, reason });
}
