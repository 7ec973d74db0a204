// Builds (once) and caches a minimal Debian root file system that boots systemd under
// systemd-nspawn. Every container starts from this tree without modifying it (an overlay or a
// copy), so the cached tree is read-only once it has been renamed into place.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertHostReady, log, runOk, sleep } from './host.js';

export const ROOTFS_SUITE = 'bookworm';

/**
 * Packages on top of `--variant=minbase`. systemd + systemd-sysv make systemd PID 1 and bring
 * systemctl, journalctl and systemd-analyze; dbus is needed by logind and systemd-run; libstdc++6
 * (already pulled in by apt, named so nobody drops it) is what the host's bind-mounted node links.
 */
export const ROOTFS_PACKAGES: readonly string[] = [
  'systemd', 'systemd-sysv', 'dbus', 'procps', 'iproute2', 'ca-certificates', 'libstdc++6',
];

/**
 * Units masked in the image. None of them slows boot measurably (boot is ~0.3 s of userspace
 * either way); they are masked because they either print a login prompt on the console or
 * wake up during a test and do unrelated work (apt downloads, fstrim, e2scrub).
 */
export const MASKED_UNITS: readonly string[] = [
  'console-getty.service', 'getty@tty1.service',
  'apt-daily.timer', 'apt-daily-upgrade.timer', 'dpkg-db-backup.timer',
  'e2scrub_all.timer', 'e2scrub_reap.service', 'fstrim.timer',
  'systemd-networkd-wait-online.service',
];

/** Files written into the image after debootstrap (guest path → content). */
const IMAGE_FILES: Readonly<Record<string, string>> = {
  // A unit that hangs on stop would otherwise hold a reboot for 90 s.
  '/etc/systemd/system.conf.d/10-warden-test.conf': '[Manager]\nDefaultTimeoutStopSec=10s\n',
  // Keep every boot's journal, so tests can look at the previous boot after a reboot.
  '/etc/systemd/journald.conf.d/10-warden-test.conf': '[Journal]\nStorage=persistent\n',
};

/** Bump when the build steps below change in a way the inputs hashed into the version miss. */
const BUILD_REVISION = 1;

/** Version of the cached tree: changes whenever what goes into it changes. */
export const ROOTFS_VERSION = `${ROOTFS_SUITE}-` + createHash('sha256')
  .update(JSON.stringify([BUILD_REVISION, ROOTFS_PACKAGES, MASKED_UNITS, IMAGE_FILES]))
  .digest('hex').slice(0, 10);

export const DEFAULT_CACHE_DIR = '/var/cache/warden-test';
const MARKER = '/etc/warden-test-rootfs.json';

export interface RootfsOptions {
  /** Where cached trees live; default $WARDEN_TEST_CACHE or /var/cache/warden-test. */
  cacheDir?: string;
  /** Debian mirror; default $WARDEN_DEBIAN_MIRROR or http://deb.debian.org/debian. */
  mirror?: string;
  /** How long to wait for another process that is building the same tree. */
  waitTimeoutMs?: number;
}

/**
 * Returns the path of a ready root file system, building it first if needed (about 40 s on a
 * fast mirror). Safe to call from several test processes at once: one builds, the others wait.
 */
export async function ensureRootfs(opts: RootfsOptions = {}): Promise<string> {
  const cacheDir = opts.cacheDir ?? process.env.WARDEN_TEST_CACHE ?? DEFAULT_CACHE_DIR;
  const final = join(cacheDir, `rootfs-${ROOTFS_VERSION}`);
  if (existsSync(join(final, MARKER))) return final;
  assertHostReady();
  mkdirSync(cacheDir, { recursive: true });

  const lock = `${final}.lock`;
  const deadline = Date.now() + (opts.waitTimeoutMs ?? 20 * 60_000);
  let announced = false;
  for (;;) {
    if (existsSync(join(final, MARKER))) return final;
    if (tryLock(lock)) break;
    if (!announced) { log(`waiting for another process building ${final}`); announced = true; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for the lock ${lock}`);
    await sleep(500);
  }
  try {
    if (existsSync(join(final, MARKER))) return final;
    await build(cacheDir, final, opts.mirror ?? process.env.WARDEN_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian');
    return final;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** A lock directory holding the owner's pid; a lock whose owner died is taken over. */
function tryLock(lock: string): boolean {
  try {
    mkdirSync(lock);
    writeFileSync(join(lock, 'pid'), String(process.pid));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  let owner = NaN;
  try { owner = Number(readFileSync(join(lock, 'pid'), 'utf8')); } catch { /* being created */ }
  if (Number.isInteger(owner) && !alive(owner)) {
    // Rename first so two waiters cannot both remove a lock that a third has just taken.
    const stale = `${lock}.stale-${randomBytes(4).toString('hex')}`;
    try { renameSync(lock, stale); rmSync(stale, { recursive: true, force: true }); } catch { /* lost the race */ }
  }
  return false;
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

async function build(cacheDir: string, final: string, mirror: string): Promise<void> {
  removeAbandonedBuilds(cacheDir);
  const tmp = join(cacheDir, `.build-${ROOTFS_VERSION}-${process.pid}-${randomBytes(3).toString('hex')}`);
  const debs = join(cacheDir, 'debs'); // downloaded .debs are kept, so a version bump rebuilds faster
  mkdirSync(debs, { recursive: true });
  const started = Date.now();
  log(`building ${ROOTFS_SUITE} root file system ${final} (debootstrap from ${mirror}; takes a minute or more)`);
  const progress = debootstrapProgress();
  try {
    // setpriv: debootstrap dies with this process instead of writing on into a tree that the
    // next run will remove as abandoned.
    await runOk('setpriv', [
      '--pdeathsig', 'KILL', '--', 'debootstrap', '--variant=minbase', `--include=${ROOTFS_PACKAGES.join(',')}`, `--cache-dir=${debs}`,
      ROOTFS_SUITE, tmp, mirror,
    ], { onLine: progress.line, timeoutMs: 30 * 60_000 });
    progress.done();
    configure(tmp);
    renameSync(tmp, final); // atomic: a half-built tree never has the final name
    log(`root file system ready in ${((Date.now() - started) / 1000).toFixed(1)} s: ${final}`);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`could not build the system-test root file system with debootstrap from ${mirror} ` +
      `(set WARDEN_DEBIAN_MIRROR to use another mirror): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** Trees left by builds whose process died (the lock is held, so no live build is touched). */
function removeAbandonedBuilds(cacheDir: string): void {
  for (const name of readdirSync(cacheDir)) {
    const m = /^\.build-.+-(\d+)-[0-9a-f]+$/.exec(name);
    if (m && !alive(Number(m[1]))) {
      log(`removing abandoned build ${join(cacheDir, name)}`);
      rmSync(join(cacheDir, name), { recursive: true, force: true });
    }
  }
}

/** Post-debootstrap set-up of the image, done from the host (no chroot needed). */
function configure(root: string): void {
  const at = (p: string): string => join(root, p);
  for (const unit of MASKED_UNITS) {
    const link = at(`/etc/systemd/system/${unit}`);
    rmSync(link, { force: true });
    symlinkSync('/dev/null', link); // what `systemctl mask` does
  }
  for (const [path, content] of Object.entries(IMAGE_FILES)) {
    mkdirSync(at(join(path, '..')), { recursive: true });
    writeFileSync(at(path), content);
  }
  // debootstrap copies the host's hostname; without the file, the nspawn machine name is used.
  rmSync(at('/etc/hostname'), { force: true });
  // Each container gets its own machine id (the journal directory is named after it).
  writeFileSync(at('/etc/machine-id'), '');
  if (existsSync(at('/var/lib/dbus/machine-id'))) unlinkSync(at('/var/lib/dbus/machine-id'));
  // Package lists are large and stale by the next day; `apt-get update` inside if ever needed.
  for (const f of readdirSync(at('/var/lib/apt/lists'))) {
    if (f !== 'partial' && f !== 'lock') rmSync(at(`/var/lib/apt/lists/${f}`), { force: true });
  }
  mkdirSync(at('/opt/warden'), { recursive: true });
  writeFileSync(at(MARKER), JSON.stringify({
    version: ROOTFS_VERSION, suite: ROOTFS_SUITE, packages: ROOTFS_PACKAGES, masked: MASKED_UNITS,
    builtAt: new Date().toISOString(),
  }, null, 2) + '\n');
}

/** Condenses debootstrap's ~600 per-package lines into one line per phase plus a heartbeat. */
function debootstrapProgress(): { line: (l: string) => void; done: () => void } {
  const perPackage = /^I: (Retrieving|Validating|Extracting|Unpacking|Configuring) (?!the base system)\S+/;
  const phases: Record<string, string> = {
    Retrieving: 'downloaded', Validating: 'downloaded', Extracting: 'extracted', Unpacking: 'unpacked', Configuring: 'configured',
  };
  let phase = '';
  let count = 0;
  let lastBeat = Date.now();
  const endPhase = (): void => { if (phase) log(`  debootstrap: ${phase} ${count} packages`); phase = ''; count = 0; };
  return {
    line: (l) => {
      const m = perPackage.exec(l);
      if (m) {
        const p = phases[m[1] ?? ''] ?? '';
        if (p !== phase) { endPhase(); phase = p; }
        if (m[1] !== 'Validating') count++;
        if (Date.now() - lastBeat > 10_000) { log(`  debootstrap: ${phase} ${count} packages so far`); lastBeat = Date.now(); }
        return;
      }
      endPhase();
      if (l.trim()) { log(`  debootstrap: ${l.replace(/^I: /, '')}`); lastBeat = Date.now(); }
    },
    done: endPhase,
  };
}
