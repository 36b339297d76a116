// Makes `import 'fex'` work for the first-party plugins (plugins/*, each a package of its own) as
// it does for a plugin that installed fex: node_modules/fex is this repository. A link rather
// than a `file:.` dependency, which would make npm record the package as depending on itself.
import { lstat, symlink } from 'node:fs/promises';

const link = new URL('../node_modules/fex', import.meta.url);
const exists = await lstat(link).then(
  () => true,
  () => false,
);
if (!exists) await symlink('..', link, 'dir');
