import { closeSync, openSync } from 'node:fs';
import { spawnGaffer, type GafferProcess } from '../test/helpers/process.ts';
import { delay } from './faults.ts';

/**
 * `gaffer up` under test: killed and restarted on purpose, and any other exit noted. Its stderr
 * (its own log and its local workers', each line prefixed with the worker's id) is appended to
 * `logFile` across restarts: a failed run's artefact.
 */
export class UnderTest {
  /** Why it exited when nobody asked it to (a crash), else null. */
  crashed: string | null = null;
  #proc: GafferProcess;
  #expected = false;
  readonly #args: string[];
  readonly #logFile: string;

  private constructor(proc: GafferProcess, args: string[], logFile: string) {
    this.#proc = proc;
    this.#args = args;
    this.#logFile = logFile;
    this.#watch(proc);
  }

  static async start(args: string[], logFile: string): Promise<UnderTest> {
    return new UnderTest(await spawnLogged(args, logFile), args, logFile);
  }

  /** Where it listens: the same after a restart (its port is fixed). */
  get url(): string {
    return this.#proc.url;
  }

  /** kill -9, down for `downMs`, started again. */
  async restart(downMs: number): Promise<void> {
    this.#expected = true;
    this.#proc.child.kill('SIGKILL');
    await this.#proc.exited;
    await delay(downMs); // the fault's length
    this.#proc = await spawnLogged(this.#args, this.#logFile);
    this.#watch(this.#proc);
    this.#expected = false;
  }

  async stop(): Promise<void> {
    this.#expected = true;
    this.#proc.child.kill('SIGTERM');
    await this.#proc.exited;
  }

  /** kill -9 (whatever state it is in), resolved once it has exited. */
  async kill(): Promise<void> {
    this.#expected = true;
    this.#proc.child.kill('SIGKILL');
    await this.#proc.exited;
  }

  #watch(proc: GafferProcess): void {
    void proc.exited.then((code) => {
      if (!this.#expected && proc === this.#proc) this.crashed = `exit ${code}`;
    });
  }
}

/** The child has its own copy of the descriptor: ours is closed once it is spawned. */
async function spawnLogged(args: string[], logFile: string): Promise<GafferProcess> {
  const fd = openSync(logFile, 'a');
  try {
    return await spawnGaffer(args, {}, fd);
  } finally {
    closeSync(fd);
  }
}
