import { Args, Flags } from './oclif.js';

/** The flags of every command that talks to a server. */
export const connectionFlags = {
  server: Flags.string({
    summary: 'Server as host:port; else FEX_SERVER, else the server remembered by `fex join`.',
    env: 'FEX_SERVER',
    helpGroup: 'CONNECTION',
  }),
  handle: Flags.string({
    summary: 'Handle to act as; else FEX_HANDLE, else the handle remembered by `fex register`.',
    env: 'FEX_HANDLE',
    helpGroup: 'CONNECTION',
  }),
};

/** The one argument of a command that acts on a file on the server (get, delete, ...). */
export const serverFileArgs = {
  filename: Args.string({
    description: 'the name on the server',
    required: true,
    ignoreStdin: true,
  }),
};
