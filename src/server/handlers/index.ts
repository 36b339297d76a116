/** The built-in request types, registered through the same interface as any other plugin. */
import { PLUGIN_API_VERSION, type ServerPlugin } from '../plugin-api.js';
import { deleteFile } from './delete.js';
import { dir } from './dir.js';
import { get } from './get.js';
import { hello } from './hello.js';
import { leave } from './leave.js';
import { login } from './login.js';
import { operatorDelete } from './operator-delete.js';
import { register } from './register.js';
import { rename } from './rename.js';
import { store } from './store.js';

/** `operatorKey`: the server's operator key (operator-key.ts), read when a request offers one. */
export function builtinPlugin(operatorKey: () => string): ServerPlugin {
  return {
    name: 'fex-builtin',
    apiVersion: PLUGIN_API_VERSION,
    handlers: {
      hello,
      register,
      login,
      store,
      dir,
      get,
      delete: deleteFile,
      rename,
      'operator-delete': operatorDelete(operatorKey),
      leave,
    },
  };
}
