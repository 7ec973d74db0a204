#!/usr/bin/env node
// Idempotent set-up used by `npm run demo`, `npm test` and `npm run bench`:
// installs npm packages when package-lock.json changed, compiles TypeScript, and installs the
// Debian packages the lab and the tests need (redis-server, debootstrap, systemd-container,
// etcd-server, iproute2, nftables, exim4-daemon-light, podman, runc, openssh) through apt-get when running as root.
// Uses only Node built-ins, because it runs before node_modules exists.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const log = (msg) => process.stderr.write(`setup: ${msg}\n`);

function have(cmd) {
  // debootstrap lives in /usr/sbin, which a non-login root shell may not have on its PATH.
  const PATH = `${process.env.PATH ?? ''}:/usr/local/sbin:/usr/sbin:/sbin`;
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore', env: { ...process.env, PATH } }).status === 0;
}

function run(cmd, args, opts = {}) {
  log(`${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], cwd: root, ...opts });
}

// Debian packages: [binary that proves it is installed, package].
const debs = [['redis-server', 'redis-server']];
// libfaketime: the end-to-end test that steps the wall clock under a running daemon; prometheus:
// the promql probe's tests, which run their own instance (src/demo/prometheus.ts).
if (['test', 'setup', undefined].includes(process.env.npm_lifecycle_event)) debs.push(['faketime', 'faketime'], ['prometheus', 'prometheus']);
// exim4: the email channel's tests send real mail to a real SMTP server (src/testing/smtp.ts runs a
// private exim daemon on a loopback port; the system's exim and port 25 are left alone).
if (['test', 'setup', undefined].includes(process.env.npm_lifecycle_event)) debs.push(['exim4', 'exim4-daemon-light']);
// The system tests (test/system/) debootstrap a Debian tree and boot systemd in it with
// systemd-nspawn; WARDEN_SKIP_SYSTEM=1 skips those tests, and then these packages.
// The demo and the bench do not need them.
const forTests = ['test', 'setup', undefined].includes(process.env.npm_lifecycle_event);
if (forTests && process.env.WARDEN_SKIP_SYSTEM !== '1') debs.push(['debootstrap', 'debootstrap'], ['systemd-nspawn', 'systemd-container']);
// The etcd lab (src/subjects/etcd/lab.ts, test/e2e/etcd-lab.test.ts): etcd 3.4 members in network
// namespaces made with iproute2's `ip` (and `tc` for latency), a firewall fault made with nftables'
// `nft`. WARDEN_SKIP_ETCD=1 skips those tests, and then these packages. `npm run demo -- etcd` runs
// the same lab, and npm does not tell this script which scenario follows, so the demo installs them too.
const forDemo = process.env.npm_lifecycle_event === 'demo';
if ((forTests || forDemo) && process.env.WARDEN_SKIP_ETCD !== '1') debs.push(['etcd', 'etcd-server'], ['ip', 'iproute2'], ['nft', 'nftables']);
// The container kinds' tests (test/e2e/podman.test.ts): Debian's Podman 4.3 with runc (crun
// fails on these machines); WARDEN_SKIP_PODMAN=1 skips those tests, and then these packages.
if (forTests && process.env.WARDEN_SKIP_PODMAN !== '1') debs.push(['podman', 'podman'], ['runc', 'runc']);
// The SSH transport's tests run a private sshd on loopback (src/testing/sshd.ts) and the client.
if (forTests) debs.push(['sshd', 'openssh-server'], ['ssh', 'openssh-client']);
// The fleet lab (`warden lab fleet`, `npm run demo -- fleet`, src/lab/fleet/): hosts booted with
// systemd-nspawn from a debootstrapped tree (openssh-server is added inside the image, not here),
// in network namespaces made with `ip`, reached with the ssh client and a key from ssh-keygen.
// npm does not tell this script which scenario follows, so the demo installs them too;
// WARDEN_SKIP_FLEET=1 leaves them out of the demo's set-up.
if (forDemo && process.env.WARDEN_SKIP_FLEET !== '1') {
  debs.push(['debootstrap', 'debootstrap'], ['systemd-nspawn', 'systemd-container'], ['ip', 'iproute2'], ['ssh', 'openssh-client'], ['ssh-keygen', 'openssh-client']);
}
const missing = [...new Set(debs.filter(([bin]) => !have(bin)).map(([, pkg]) => pkg))];
if (missing.length > 0) {
  if (process.getuid?.() === 0 && have('apt-get')) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    run('apt-get', ['update', '-qq'], { env });
    run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
  } else {
    log(`missing ${missing.join(', ')}; install with: sudo apt-get install ${missing.join(' ')}`);
    process.exit(1);
  }
}
// The Debian packages start a system redis on 6379, a system prometheus on 9090 and a system etcd
// on 127.0.0.1:2379 where an init system runs them; the labs and the tests run their own instances
// on other ports and addresses and never touch them.

// npm packages: reinstall only when the lock file changed since the last install.
const lock = join(root, 'package-lock.json');
const stamp = join(root, 'node_modules', '.warden-setup-stamp');
const want = createHash('sha256').update(readFileSync(existsSync(lock) ? lock : join(root, 'package.json'))).digest('hex');
const have_ = existsSync(stamp) ? readFileSync(stamp, 'utf8') : '';
if (want !== have_ || !existsSync(join(root, 'node_modules', '.bin', 'tsc'))) {
  run('npm', existsSync(lock) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund']);
  mkdirSync(join(root, 'node_modules'), { recursive: true });
  writeFileSync(stamp, want);
}
// Compile (incremental; a no-op when nothing changed).
run(join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json']);

// The system tests (test/system/) boot systemd in a debootstrapped Debian tree. Build it here,
// once, under `npm test`, so the first run does not spend a test file's time limit on
// debootstrap (about a minute). A failure here is not fatal: the system tests report it.
if (process.env.npm_lifecycle_event === 'test' && process.env.WARDEN_SKIP_SYSTEM !== '1' && process.getuid?.() === 0) {
  try {
    const { ensureRootfs } = await import(pathToFileURL(join(root, 'dist', 'test', 'system', 'rootfs.js')).href);
    await ensureRootfs();
  } catch (e) {
    log(`could not prepare the system-test root file system: ${e instanceof Error ? e.message : String(e)}`);
  }
}
// The container tests' image, imported once from that root file system (cached by its version).
if (process.env.npm_lifecycle_event === 'test' && process.env.WARDEN_SKIP_PODMAN !== '1' && process.getuid?.() === 0) {
  try {
    const { ensureImage } = await import(pathToFileURL(join(root, 'dist', 'test', 'e2e', 'podman.js')).href);
    log(`container test image: ${await ensureImage()}`);
  } catch (e) {
    log(`could not prepare the container test image: ${e instanceof Error ? e.message : String(e)}`);
  }
}
