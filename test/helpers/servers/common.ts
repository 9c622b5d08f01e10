import { execFileSync, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';

/**
 * Whether a server binary is installed. Without it a test suite skips — loudly — except in CI
 * (`CI=true`), where a missing service is a failure: `.ci/run` installs them all first.
 */
export function serviceAvailable(binary: string): boolean {
  const found = binary.startsWith('/') ? existsSync(binary) : which(binary);
  if (!found && process.env['CI'] === 'true') {
    throw new Error(
      `${binary} is not installed: run scripts/install-deps.sh (CI must not skip it)`,
    );
  }
  if (!found) {
    console.warn(`\n*** SKIPPED: ${binary} is not installed (bash scripts/install-deps.sh) ***\n`);
  }
  return found;
}

function which(binary: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A free TCP port on loopback (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/**
 * Stops a private server once (later calls do nothing): SIGTERM, wait for its exit, then remove
 * its data directory.
 */
export function stopOnce(child: ChildProcess, dir: string): () => Promise<void> {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopped = false;
  return async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
}
