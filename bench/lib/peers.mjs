/**
 * The peers fex is compared with: netcat, vsftpd + curl, OpenSSH sftp, and hyperfine for timing
 * start-up. Missing Debian packages are installed with apt-get when the bench runs as root; a
 * peer that still cannot run is reported as unavailable with the reason, never a failure.
 *
 * Daemons listen on 127.0.0.1 only, on free non-default ports, with configs written to the
 * bench's temp dir (nothing under /etc is touched), and are stopped at the end of the bench.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { collect, freePort, log, quiet, start, stop, waitListening, which } from './util.mjs';

const PACKAGES = {
  nc: 'netcat-openbsd',
  curl: 'curl',
  lftp: 'lftp',
  vsftpd: 'vsftpd',
  sshd: 'openssh-server',
  sftp: 'openssh-client',
  'ssh-keygen': 'openssh-client',
  hyperfine: 'hyperfine',
};

const SBIN = { vsftpd: '/usr/sbin/vsftpd', sshd: '/usr/sbin/sshd' };

function find(tool) {
  return which(tool) ?? (SBIN[tool] && existsSync(SBIN[tool]) ? SBIN[tool] : null);
}

/** Installs the Debian packages of the missing tools, if allowed; returns what was done. */
export function install(tools, { allowed }) {
  const missing = tools.filter((tool) => !find(tool));
  if (missing.length === 0) return { attempted: false, missing: [] };
  const packages = [...new Set(missing.map((tool) => PACKAGES[tool]).filter(Boolean))];
  const isRoot = process.getuid?.() === 0;
  if (!allowed || !isRoot || !which('apt-get')) {
    const why = !allowed
      ? 'installing disabled (--no-install)'
      : !isRoot
        ? 'not root'
        : 'no apt-get';
    log(`missing ${missing.join(', ')}; not installing (${why})`);
    return { attempted: false, missing, reason: why };
  }
  log(`installing ${packages.join(' ')} with apt-get (missing: ${missing.join(', ')})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let result = quiet('apt-get', ['install', '-y', '-qq', ...packages], { env, timeout: 600_000 });
  if (result.code !== 0) {
    quiet('apt-get', ['update', '-qq'], { env, timeout: 600_000 });
    result = quiet('apt-get', ['install', '-y', '-qq', ...packages], { env, timeout: 600_000 });
  }
  const still = missing.filter((tool) => !find(tool));
  return {
    attempted: true,
    packages,
    missing: still,
    ...(result.code !== 0 ? { reason: result.stderr.trim().split('\n').slice(-3).join(' ') } : {}),
  };
}

/** OpenBSD netcat (needs -N to close after EOF on stdin). */
export function netcat() {
  const nc = which('nc');
  if (!nc) return { available: false, reason: 'nc is not installed' };
  const help = quiet(nc, ['-h']);
  if (!/-N\s/.test(help.stdout + help.stderr))
    return { available: false, reason: `${nc} is not OpenBSD netcat (no -N flag)` };
  return { available: true, path: nc };
}

export function hyperfine() {
  const path = which('hyperfine');
  if (!path) return { available: false, reason: 'hyperfine is not installed' };
  return { available: true, path, version: quiet(path, ['--version']).stdout.trim() };
}

/**
 * Starts vsftpd in the foreground on a free port, anonymous login, uploads allowed into
 * ROOT/up (vsftpd refuses a writable chroot root). Resolves with { available, port, upDir } or
 * { available: false, reason }.
 */
export async function startVsftpd(dir) {
  const bin = find('vsftpd');
  const curl = which('curl');
  if (!bin) return { available: false, reason: 'vsftpd is not installed' };
  if (!curl) return { available: false, reason: 'curl is not installed' };
  if (process.getuid?.() !== 0)
    return { available: false, reason: 'vsftpd needs root for its anonymous chroot' };
  let child;
  try {
    const root = join(dir, 'root');
    const upDir = join(root, 'up');
    const empty = join(dir, 'empty');
    mkdirSync(upDir, { recursive: true });
    mkdirSync(empty, { recursive: true });
    chmodSync(dir, 0o755);
    chmodSync(root, 0o755);
    chmodSync(empty, 0o755);
    const ftp = quiet('id', ['-u', 'ftp']);
    const ftpGroup = quiet('id', ['-g', 'ftp']);
    if (ftp.code !== 0) return { available: false, reason: 'there is no "ftp" user' };
    chownSync(upDir, Number(ftp.stdout), Number(ftpGroup.stdout));
    const port = await freePort();
    const config = join(dir, 'vsftpd.conf');
    writeFileSync(
      config,
      [
        'listen=YES',
        'listen_ipv6=NO',
        'listen_address=127.0.0.1',
        `listen_port=${port}`,
        'background=NO',
        'anonymous_enable=YES',
        'local_enable=NO',
        'write_enable=YES',
        'anon_upload_enable=YES',
        'anon_mkdir_write_enable=YES',
        'anon_other_write_enable=YES',
        'no_anon_password=YES',
        `anon_root=${root}`,
        'anon_umask=022',
        `secure_chroot_dir=${empty}`,
        'pasv_enable=YES',
        'pasv_address=127.0.0.1',
        // Passive data ports: any free one. A narrow range runs out (TIME_WAIT) over 1000 uploads.
        'port_enable=NO',
        'seccomp_sandbox=NO',
        'isolate=NO',
        'isolate_network=NO',
        'xferlog_enable=NO',
        'syslog_enable=NO',
        'dirmessage_enable=NO',
        'max_clients=0',
        'max_per_ip=0',
        'idle_session_timeout=600',
        'data_connection_timeout=600',
        '',
      ].join('\n'),
    );
    child = start(bin, [config], { group: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const err = collect(child.stderr);
    await waitListening(port, 10_000, child).catch((error) => {
      throw new Error(`${error.message} ${err.text.trim()}`);
    });
    // One real upload proves the setup (login, passive mode, write permission).
    const probe = join(dir, 'probe.txt');
    writeFileSync(probe, 'probe\n');
    const put = quiet(curl, ['-sS', '-T', probe, `ftp://127.0.0.1:${port}/up/probe.txt`]);
    if (put.code !== 0) throw new Error(`test upload failed: ${put.stderr.trim()}`);
    const version = quiet('dpkg-query', ['-W', '-f', '${Package} ${Version}', 'vsftpd']);
    return {
      available: true,
      port,
      upDir,
      url: `ftp://127.0.0.1:${port}/up`,
      curl,
      // A second FTP client, for many small files: `mput` over one session, without curl's stalls.
      lftp: which('lftp'),
      version: version.code === 0 ? version.stdout.trim() : 'vsftpd',
      stop: () => stop(child),
    };
  } catch (error) {
    if (child) await stop(child);
    return { available: false, reason: `vsftpd could not be started: ${error.message}` };
  }
}

/**
 * Starts sshd in the foreground on a free port with a fresh host key and a fresh client key,
 * public-key login for the current user only, sftp served in-process (internal-sftp).
 */
export async function startSshd(dir) {
  const bin = find('sshd');
  const sftp = which('sftp');
  const keygen = which('ssh-keygen');
  if (!bin) return { available: false, reason: 'sshd is not installed' };
  if (!sftp || !keygen) return { available: false, reason: 'sftp or ssh-keygen is not installed' };
  let child;
  try {
    mkdirSync(dir, { recursive: true });
    const hostKey = join(dir, 'host_ed25519');
    const clientKey = join(dir, 'id_ed25519');
    for (const key of [hostKey, clientKey]) {
      const made = quiet(keygen, ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
      if (made.code !== 0) throw new Error(`ssh-keygen: ${made.stderr.trim()}`);
    }
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
    // sshd insists on its privilege separation directory when it runs as root.
    if (process.getuid?.() === 0 && !existsSync('/run/sshd')) {
      mkdirSync('/run/sshd', { mode: 0o755 });
      log('created /run/sshd (the privilege separation directory sshd requires)');
    }
    const port = await freePort();
    const config = join(dir, 'sshd_config');
    writeFileSync(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        'PermitRootLogin prohibit-password',
        `AllowUsers ${userInfo().username}`,
        'Subsystem sftp internal-sftp',
        'LogLevel ERROR',
        '',
      ].join('\n'),
    );
    const test = quiet(bin, ['-t', '-f', config]);
    if (test.code !== 0) throw new Error(`sshd -t: ${test.stderr.trim()}`);
    child = start(bin, ['-D', '-e', '-f', config], {
      group: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const err = collect(child.stderr);
    await waitListening(port, 10_000, child).catch((error) => {
      throw new Error(`${error.message} ${err.text.trim()}`);
    });
    const args = [
      '-q',
      '-F',
      '/dev/null',
      '-P',
      String(port),
      '-i',
      clientKey,
      '-o',
      'BatchMode=yes',
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      `UserKnownHostsFile=/dev/null`,
      '-o',
      'LogLevel=ERROR',
    ];
    const target = `${userInfo().username}@127.0.0.1`;
    const batch = join(dir, 'probe.batch');
    writeFileSync(batch, 'pwd\n');
    const probe = quiet(sftp, [...args, '-b', batch, target]);
    if (probe.code !== 0) throw new Error(`test login failed: ${probe.stderr.trim()}`);
    const version = quiet('ssh', ['-V']);
    return {
      available: true,
      port,
      sftp,
      args,
      target,
      version: version.stderr.trim(),
      stop: () => stop(child),
    };
  } catch (error) {
    if (child) await stop(child);
    return { available: false, reason: `sshd could not be started: ${error.message}` };
  }
}
