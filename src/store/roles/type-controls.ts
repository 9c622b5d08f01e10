import type { FlowLimits, KeyState } from '../../domain/flow.ts';

/**
 * Role: operator controls of a job type that are state, not config — whether it is paused — and
 * the flow-control standing the API explains waiting jobs with. The job service uses it.
 */
export interface TypeControls {
  /**
   * Pauses or resumes a type: a paused type's claims take nothing (its jobs wait as `paused`);
   * jobs already in flight are untouched. Durable: survives a restart of every gaffer.
   */
  setPaused(type: string, paused: boolean, by: string, at: number): Promise<void>;
  /** The paused types, by name. */
  pausedTypes(): Promise<PausedType[]>;
  /**
   * What limits a job of `type` with `key` now: the pause, the type's starts inside its rate
   * window, and the key's standing (null `key`: none asked).
   */
  flowStanding(
    type: string,
    key: string | null,
    now: number,
    limits: FlowLimits,
  ): Promise<FlowStanding>;
}

export interface PausedType {
  type: string;
  by: string;
  at: number;
}

export interface FlowStanding {
  paused: boolean;
  typeStarts: number[];
  key: KeyState | null;
}
