/**
 * The command table: oclif's explicit strategy reads COMMANDS, and the shell looks slash
 * commands up in the same table. A command is added here once and is then everywhere.
 */
import Dir from './dir.js';
import Get from './get.js';
import Join from './join.js';
import Leave from './leave.js';
import Register from './register.js';
import Serve from './serve.js';
import Shell from './shell.js';
import Store from './store.js';

export const COMMANDS = {
  join: Join,
  leave: Leave,
  register: Register,
  store: Store,
  dir: Dir,
  get: Get,
  serve: Serve,
  shell: Shell,
};
