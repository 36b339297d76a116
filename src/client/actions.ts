/**
 * The word each operation goes by in the errors that name it ("Upload failed. Please connect to
 * the server first."): one table, read by the session and by both clients, so the shell and the
 * one-shot commands say the same. A plugin's command passes its own word to `Client.call()`.
 */
export const ACTION = {
  leave: 'Disconnection',
  register: 'Registration',
  login: 'Login',
  store: 'Upload',
  dir: 'Directory listing',
  get: 'Download',
  delete: 'Delete',
  rename: 'Rename',
} as const;
