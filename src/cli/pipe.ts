import type { Writable } from 'node:stream';
import { EXIT } from './exit.ts';

/**
 * The exit status when stdout's or stderr's reader went away (`gaffer jobs | head -1`): 141, the
 * shell's status of a process SIGPIPE ended (128 + 13). git and kubectl end that way — they are
 * killed by SIGPIPE — so a pipeline under `set -o pipefail` sees gaffer as it sees them. Node
 * ignores SIGPIPE (a write fails with EPIPE instead), so gaffer exits with the status itself.
 */
export const EXIT_PIPE_CLOSED = EXIT.pipeClosed;

const installed = new WeakSet<Writable>();

/**
 * Once per process: a write to `streams` that fails with EPIPE ends the process at once, quietly,
 * with EXIT_PIPE_CLOSED — whatever command was writing, and however deep. Any other write error is
 * rethrown, as an unhandled stream error would be.
 */
export function endQuietlyWhenReaderGoes(
  streams: Writable[] = [process.stdout, process.stderr],
  exit: (code: number) => never = (code) => process.exit(code),
): void {
  for (const stream of streams) {
    if (installed.has(stream)) continue;
    installed.add(stream);
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') exit(EXIT_PIPE_CLOSED);
      throw err;
    });
  }
}
