/** The built-in request types, registered through the same interface as any other plugin. */
import { PLUGIN_API_VERSION, type ServerPlugin } from '../plugin-api.js';
import { dir } from './dir.js';
import { get } from './get.js';
import { hello } from './hello.js';
import { leave } from './leave.js';
import { login } from './login.js';
import { register } from './register.js';
import { store } from './store.js';

export const builtinPlugin: ServerPlugin = {
  name: 'fex-builtin',
  apiVersion: PLUGIN_API_VERSION,
  handlers: { hello, register, login, store, dir, get, leave },
};
