import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { adhocPayload } from './adhoc.ts';
import { diagnose } from './diagnostic.ts';

/**
 * The ad-hoc type's command (adhoc.ts), run by the ordinary command runner: reads the job's payload
 * from $GAFFER_PAYLOAD_FILE and runs its `cmd` with `sh -c`, its `env` added to the environment.
 *
 * Contract: the shell shares this process's stdout, stderr and process group, so the runner's
 * logs, timeout and group kill reach it unchanged; stdin is closed (the payload is not the
 * command's input). This process exits as the shell did: its code, or the same signal.
 */

const file = process.env['GAFFER_PAYLOAD_FILE'];
if (!file) {
  diagnose('gaffer adhoc: GAFFER_PAYLOAD_FILE is not set');
  process.exit(64);
}
const payload = adhocPayload(JSON.parse(readFileSync(file, 'utf8')));
const shell = spawn('sh', ['-c', payload.cmd], {
  env: { ...process.env, ...payload.env },
  stdio: ['ignore', 'inherit', 'inherit'],
});
shell.on('error', (err) => {
  diagnose(`gaffer adhoc: cannot start sh: ${err.message}`);
  process.exit(127);
});
shell.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
