// Podman for the container end-to-end tests: the test image (built once from the debootstrapped
// Debian root the system tests cache, with `podman import`: nothing is pulled), the options this
// machine's Podman needs, and cleanup. WARDEN_SKIP_PODMAN=1 skips the tests that use it.
import { execFile, spawn } from 'node:child_process';
import { ensureRootfs, ROOTFS_VERSION } from '../system/rootfs.js';

const SKIP_ENV = 'WARDEN_SKIP_PODMAN';

/** Debian's Podman 4.3 here: crun fails, runc works; the default ulimits are refused. */
export const MACHINE = { runtime: 'runc', ulimits: { nofile: '1024:1024', nproc: '1024:1024' } };

export const IMAGE = `localhost/warden-test:${ROOTFS_VERSION}`;

export function podmanSkipped(): string | false {
  return process.env[SKIP_ENV] === '1' ? `${SKIP_ENV}=1 is set` : false;
}

export function podman(args: string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('podman', args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      resolve({ code, stdout, stderr: err !== null && code === -1 ? `${stderr}${err.message}` : stderr });
    });
  });
}

/** The test image, imported from the cached root file system the first time (a few seconds). */
export async function ensureImage(): Promise<string> {
  const have = await podman(['--version']);
  if (have.code !== 0) throw new Error(`podman is not usable here (${have.stderr.trim()}): run \`npm run setup\` as root (it installs podman and runc), or set ${SKIP_ENV}=1`);
  if ((await podman(['image', 'exists', IMAGE])).code === 0) return IMAGE;
  const root = await ensureRootfs();
  await new Promise<void>((resolve, reject) => {
    const tar = spawn('tar', ['-C', root, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const imp = spawn('podman', ['import', '--quiet', '-', IMAGE], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    imp.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    tar.stdout.pipe(imp.stdin);
    imp.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`podman import of ${root} failed (${code}): ${err}`))));
  });
  return IMAGE;
}

/** Removes these containers and pods, whatever state they are in. */
export async function removeAll(containers: string[], pods: string[] = []): Promise<void> {
  if (pods.length > 0) await podman(['pod', 'rm', '--force', '--time', '0', ...pods]);
  if (containers.length > 0) await podman(['rm', '--force', '--time', '0', ...containers]);
}
