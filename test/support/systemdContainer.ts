// A real systemd as PID 1 in a throw-away container made of namespaces, for tests of the
// shipped systemd unit (PID 1 of this machine is not systemd). No Docker image, no dockerd:
// `unshare` gives systemd fresh pid/mount/net/uts/ipc/cgroup namespaces, a cgroup of its own
// (a child of ours in the cgroup2 hierarchy) and a root file system of a small staging
// directory (etc/, var/) plus the host's /usr and the repository, both read-only
// (systemdBoot.sh). systemd then boots that tree: journald, local-fs, multi-user.target and
// whatever units the test puts in /etc/systemd/system.
// Nothing touches the host's network namespace, iptables or mounts. destroy() kills PID 1
// (the kernel then kills every process of the pid namespace, and the network namespace with
// its bridges, veths, nested namespaces and rules goes with it), removes the cgroups and the
// staging directory.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from './corpus';
import { CmdResult, sh } from '../live/labHarness';

const SYSTEMD = '/lib/systemd/systemd';
const BOOT = path.join(repoRoot, 'test', 'support', 'systemdBoot.sh');

// Units of a Debian 12 /usr that would touch the host (sysctl.d's kernel.* keys are global,
// modules, binfmt, kernel file systems) or that need what a container lacks (consoles,
// logind and dbus, udev, first-boot setup, TPM). Masked, as container images do.
const MASKED = [
  'getty.target', 'console-getty.service', 'systemd-logind.service', 'dbus.service', 'dbus.socket',
  'systemd-user-sessions.service', 'systemd-ask-password-wall.path', 'systemd-ask-password-console.path',
  'proc-sys-fs-binfmt_misc.automount', 'systemd-binfmt.service', 'sys-kernel-config.mount', 'sys-kernel-debug.mount',
  'sys-kernel-tracing.mount', 'sys-fs-fuse-connections.mount', 'dev-hugepages.mount', 'dev-mqueue.mount',
  'kmod-static-nodes.service', 'systemd-modules-load.service', 'systemd-sysctl.service', 'systemd-random-seed.service',
  'systemd-firstboot.service', 'systemd-repart.service', 'systemd-pcrphase.service', 'systemd-pcrphase-sysinit.service',
  'systemd-machine-id-commit.service', 'systemd-update-utmp.service', 'systemd-update-utmp-runlevel.service',
  'systemd-tmpfiles-setup.service', 'systemd-tmpfiles-setup-dev.service', 'systemd-journald-audit.socket',
  'systemd-initctl.socket', 'cryptsetup.target', 'integritysetup.target', 'veritysetup.target', 'systemd-sysusers.service',
  'systemd-udevd.service', 'systemd-udevd-control.socket', 'systemd-udevd-kernel.socket', 'systemd-networkd.service',
  'systemd-resolved.service', 'systemd-timesyncd.service',
];

// Host /etc pieces the tree needs: users, the dynamic linker's cache, and /etc/alternatives
// (iptables -> iptables-nft is an alternatives link).
const ETC = ['passwd', 'group', 'shadow', 'gshadow', 'nsswitch.conf', 'ld.so.cache', 'ld.so.conf', 'ld.so.conf.d', 'alternatives', 'os-release'];

/** The cgroup2 mount of this machine: /sys/fs/cgroup (unified) or /sys/fs/cgroup/unified (hybrid). */
function cgroup2Mount(): string | null {
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-');
    if (dash > 0 && f[dash + 1] === 'cgroup2') return f[4]!;
  }
  return null;
}

/** Our own cgroup2 directory (the line "0::/path" of /proc/self/cgroup). */
function ownCgroup2Dir(mount: string): string {
  const line = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::')) ?? '0::/';
  return path.join(mount, line.slice(3));
}

/** Why a systemd container cannot be booted here, or null when it can. */
export function systemdContainerUnavailable(): string | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root';
  if (!fs.existsSync(SYSTEMD)) return `${SYSTEMD} not installed (apt-get install systemd)`;
  for (const tool of ['unshare', 'nsenter', 'pivot_root', 'setpriv', 'systemctl']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} not installed`;
  }
  const mount = cgroup2Mount();
  if (mount === null) return 'no cgroup2 hierarchy mounted (systemd needs one)';
  // systemd needs a cgroup of its own that it may write.
  const probe = path.join(ownCgroup2Dir(mount), `lateral-systemd-probe-${process.pid}`);
  try {
    fs.mkdirSync(probe);
    fs.rmdirSync(probe);
  } catch (e) {
    return `cannot create a cgroup below ${ownCgroup2Dir(mount)}: ${(e as Error).message}`;
  }
  return null;
}

export interface SystemdContainerOptions {
  /** a-z0-9: names the cgroup and the staging directory (with this process's pid). */
  name: string;
  /** Files below the container's root, e.g. 'etc/systemd/system/x.service' -> text. */
  files: Record<string, string>;
  /** Units to enable with `systemctl --root enable` (their [Install] section). */
  enable: string[];
}

export class SystemdContainer {
  /** PID of systemd (PID 1 inside) as the host sees it. */
  readonly pid: number;
  /** systemd's console output (boot messages when there is no journal yet). */
  output = '';
  private constructor(
    pid: number,
    private readonly unshare: ChildProcess,
    private readonly stage: string,
    private readonly cgroup: string,
  ) {
    this.pid = pid;
  }

  /** Builds the tree, boots systemd and waits until its boot is finished (running or degraded). */
  static async boot(opts: SystemdContainerOptions, timeoutMs = 60000): Promise<SystemdContainer> {
    sweepLeftovers();
    const tag = `lateral-systemd-${process.pid}-${opts.name}`;
    const stage = fs.mkdtempSync(path.join(os.tmpdir(), `${tag}-`));
    const cgroup = path.join(ownCgroup2Dir(cgroup2Mount()!), tag);
    let c: SystemdContainer | undefined;
    try {
      const etc = path.join(stage, 'etc');
      fs.mkdirSync(path.join(etc, 'systemd', 'system'), { recursive: true });
      for (const f of ETC) {
        if (fs.existsSync(path.join('/etc', f))) spawnSync('cp', ['-a', path.join('/etc', f), etc]);
      }
      fs.writeFileSync(path.join(etc, 'machine-id'), `${[...Array(32)].map(() => Math.floor(Math.random() * 16).toString(16)).join('')}\n`);
      fs.writeFileSync(path.join(etc, 'hostname'), 'lateral-systemd\n');
      fs.mkdirSync(path.join(stage, 'var'), { recursive: true });
      fs.symlinkSync('../run', path.join(stage, 'var', 'run'));
      for (const [rel, text] of Object.entries(opts.files)) {
        fs.mkdirSync(path.dirname(path.join(stage, rel)), { recursive: true });
        fs.writeFileSync(path.join(stage, rel), text);
      }
      for (const u of MASKED) fs.symlinkSync('/dev/null', path.join(etc, 'systemd', 'system', u));
      fs.symlinkSync('/usr/lib/systemd/system/multi-user.target', path.join(etc, 'systemd', 'system', 'default.target'));
      // What `systemctl enable` does on a host, offline against the tree.
      for (const u of opts.enable) {
        const r = spawnSync('systemctl', ['--root', stage, 'enable', u], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`systemctl --root enable ${u}: ${r.stderr}`);
      }

      fs.mkdirSync(cgroup);
      // The shell joins the new cgroup, then unshare makes it the root of the cgroup
      // namespace: systemd sees that cgroup as the whole hierarchy. --kill-child: PID 1
      // (and with it the namespace) dies if unshare is killed; --pdeathsig: unshare is
      // killed if this process dies (a test run killed by its timeout leaves no systemd).
      const script = 'echo $$ > "$1/cgroup.procs" && exec setpriv --pdeathsig KILL unshare --pid --fork --kill-child --mount --cgroup --net --uts --ipc "$2" "$3" "$4"';
      const child = spawn('sh', ['-c', script, 'sh', cgroup, BOOT, stage, repoRoot], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      const deadline = Date.now() + timeoutMs;
      let pid = 0;
      while (pid === 0) {
        if (child.exitCode !== null) throw new Error(`systemd container exited ${child.exitCode}: ${output}`);
        if (Date.now() > deadline) throw new Error(`systemd container did not start: ${output}`);
        await new Promise((r) => setTimeout(r, 50));
        const kids = readChildren(child.pid!);
        if (kids.length > 0 && readComm(kids[0]!) === 'systemd') pid = kids[0]!;
      }
      c = new SystemdContainer(pid, child, stage, cgroup);
      child.stdout!.on('data', (d: Buffer) => (c!.output += d.toString()));
      c.output = output;
      // is-system-running --wait blocks until the boot job queue is empty; it fails until
      // systemd's private socket exists, so retry until then.
      for (;;) {
        const r = await c.exec('systemctl', ['is-system-running', '--wait'], Math.max(1000, deadline - Date.now()));
        const state = r.stdout.trim();
        if (state === 'running' || state === 'degraded') break;
        if (Date.now() > deadline) throw new Error(`systemd did not finish booting (${state}): ${r.stderr}\n${c.output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return c;
    } catch (e) {
      if (c) await c.destroy();
      else cleanup(stage, cgroup);
      throw e;
    }
  }

  /** Runs a command inside every namespace of the container (as `docker exec` would). */
  exec(cmd: string, args: readonly string[], timeoutMs = 20000): Promise<CmdResult> {
    return sh('nsenter', ['-t', String(this.pid), '-m', '-u', '-i', '-n', '-p', '-C', '-r', '-w', cmd, ...args], timeoutMs);
  }

  /** `systemctl show UNIT -p ...` as a map ('' for the manager itself). */
  async show(unit: string, props: readonly string[]): Promise<Record<string, string>> {
    const r = await this.exec('systemctl', ['show', ...(unit === '' ? [] : [unit]), ...props.map((p) => `--property=${p}`)]);
    if (r.code !== 0) throw new Error(`systemctl show ${unit}: ${r.stderr}`);
    const out: Record<string, string> = {};
    for (const line of r.stdout.split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
    }
    return out;
  }

  /** A file of the container's network namespace's /proc/net (read from the host side). */
  procNet(rel: string): string {
    return fs.readFileSync(path.join('/proc', String(this.pid), 'net', rel), 'utf8');
  }

  /** Kills PID 1 (and so the whole container), then removes its cgroups and staging tree. */
  async destroy(): Promise<void> {
    try {
      process.kill(this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    const t0 = Date.now();
    while (this.unshare.exitCode === null && this.unshare.signalCode === null && Date.now() - t0 < 10000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    if (this.unshare.exitCode === null && this.unshare.signalCode === null) this.unshare.kill('SIGKILL');
    // The pid namespace's processes exit asynchronously after PID 1: retry until the
    // cgroups are empty.
    while (!cleanup(this.stage, this.cgroup) && Date.now() - t0 < 15000) await new Promise((r) => setTimeout(r, 100));
  }

  /** True when nothing of the container is left: no cgroup, no staging tree. */
  gone(): boolean {
    return !fs.existsSync(this.cgroup) && !fs.existsSync(this.stage) && !fs.existsSync(`/proc/${this.pid}`);
  }
}

/**
 * Removes the cgroups and staging trees of earlier runs whose test process is dead (killed
 * before destroy(): --pdeathsig took their systemd down, the directories stayed).
 */
function sweepLeftovers(): void {
  const dead = (name: string): boolean => {
    const m = /^lateral-systemd-(\d+)-/.exec(name);
    if (!m) return false;
    try {
      process.kill(Number(m[1]), 0);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ESRCH';
    }
  };
  const cgroupParent = ownCgroup2Dir(cgroup2Mount()!);
  for (const d of fs.readdirSync(cgroupParent)) {
    if (dead(d)) cleanup(path.join(os.tmpdir(), '.none'), path.join(cgroupParent, d));
  }
  for (const d of fs.readdirSync(os.tmpdir())) {
    if (dead(d)) cleanup(path.join(os.tmpdir(), d), path.join(cgroupParent, '.none'));
  }
}

function readChildren(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function readComm(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Removes the cgroup tree (deepest first) and the staging directory; true when both are gone. */
function cleanup(stage: string, cgroup: string): boolean {
  const dirs: string[] = [];
  const walk = (d: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(d, e.name));
    dirs.push(d);
  };
  // Never rm -rf through a mount: if the container's mounts had leaked into the host's
  // namespace (they cannot: systemdBoot.sh makes its namespace private), /usr would be under stage.
  const mounted = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => (l.split(' ')[4] ?? '').startsWith(stage));
  if (mounted) throw new Error(`${stage} has mounts in the host namespace: not removed`);
  walk(cgroup);
  for (const d of dirs) {
    try {
      fs.rmdirSync(d);
    } catch {
      // still has processes; the caller retries
    }
  }
  // The staging tree is only a mount point inside the container's (private) mount namespace:
  // on the host it is plain files.
  fs.rmSync(stage, { recursive: true, force: true });
  return !fs.existsSync(cgroup) && !fs.existsSync(stage);
}
