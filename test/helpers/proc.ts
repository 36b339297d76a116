/** Reading a process's figures from /proc, for tests that bound them (Linux only). */
import { readFile } from 'node:fs/promises';

/** A field of /proc/<pid>/<file> ("Max open files", "VmHWM", ...), or [] off Linux. */
export async function procField(
  pid: number | 'self',
  file: string,
  field: string,
): Promise<string[]> {
  const text = await readFile(`/proc/${pid}/${file}`, 'utf8').catch(() => '');
  const line = text.split('\n').find((l) => l.startsWith(field));
  return line ? line.slice(field.length).replace(/^:/, '').trim().split(/\s+/) : [];
}

/** A process's peak resident memory (VmHWM) in MiB, or undefined off Linux. */
export async function peakRssMiB(pid: number): Promise<number | undefined> {
  const [kib] = await procField(pid, 'status', 'VmHWM');
  return kib === undefined ? undefined : Number(kib) / 1024;
}
