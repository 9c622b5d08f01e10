import { spawnGaffer, type GafferProcess } from '../test/helpers/process.ts';
import { delay } from './faults.ts';

/** `gaffer up` under test: killed and restarted on purpose, and any other exit noted. */
export class UnderTest {
  /** Why it exited when nobody asked it to (a crash), else null. */
  crashed: string | null = null;
  #proc: GafferProcess;
  #expected = false;
  readonly #args: string[];

  private constructor(proc: GafferProcess, args: string[]) {
    this.#proc = proc;
    this.#args = args;
    this.#watch(proc);
  }

  static async start(args: string[]): Promise<UnderTest> {
    return new UnderTest(await spawnGaffer(args), args);
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
    this.#proc = await spawnGaffer(this.#args);
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
