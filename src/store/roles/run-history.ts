import type { AttemptRecord } from '../attempts.ts';

/**
 * Role: what a job's runs left behind — its output log, appended as workers send it, and its ended
 * attempts. Both are deleted with the job. The job service uses it.
 */
export interface RunHistory {
  appendLog(id: string, stream: 'stdout' | 'stderr', data: string, now: number): Promise<void>;
  logs(id: string, afterSeq?: number): Promise<LogLine[]>;
  /**
   * The job's ended attempts, oldest first (src/store/attempts.ts): each row is written by
   * `finish` in the transaction of the state change that ended the attempt, and deleted with the
   * job. Empty for an unknown job.
   */
  attempts(jobId: string): Promise<AttemptRecord[]>;
}

export interface LogLine {
  seq: number;
  at: number;
  stream: 'stdout' | 'stderr';
  data: string;
}
