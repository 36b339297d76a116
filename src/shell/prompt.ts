/** The prompt says where the shell is: `fex> `, `fex 127.0.0.1:12345> `, `User1@127.0.0.1:12345> `. */
export function promptFor(where: { server?: string; handle?: string }): string {
  if (!where.server) return 'fex> ';
  if (!where.handle) return `fex ${where.server}> `;
  return `${where.handle}@${where.server}> `;
}
