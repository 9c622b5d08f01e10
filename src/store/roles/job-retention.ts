import type { JobState } from '../../domain/job.ts';

/**
 * Role: forgetting the past — deleting ended jobs (with their logs and attempts) and cutting long
 * logs to their newest bytes. Only the retention sweep (jobs/retention.ts) uses it.
 */
export interface JobRetention {
  /**
   * Retention: deletes up to `limit` ended jobs in `states` (and their logs and attempts) that ended before
   * `endedBefore`, or that are not among the `keepNewest` last ended of those states (by
   * finishedAt, then id). A null limit is not applied. Returns how many were deleted.
   */
  purgeEnded(req: PurgeRequest): Promise<number>;
  /**
   * Retention: cuts the log of every job that logged after `afterSeq` to its newest bytes that,
   * with a marker line in front saying earlier lines were dropped, fit in `maxBytes` (UTF-8). A log
   * entry (a chunk of lines) that straddles the cut keeps its whole lines that fit, after the
   * marker, under its own seq; older entries are deleted. Cutting a log within its limit changes
   * nothing. Returns the jobs cut and the highest seq seen (the next call's `afterSeq`).
   */
  trimLogs(maxBytes: number, afterSeq: number): Promise<{ trimmed: string[]; lastSeq: number }>;
}

export interface PurgeRequest {
  /** Ended states that may be deleted (never queued or in flight). */
  states: readonly JobState[];
  endedBefore: number | null;
  keepNewest: number | null;
  limit: number;
}

/** The first line of a log `trimLogs` cut; also how readers recognise one. */
export function logTrimMarker(maxBytes: number): string {
  return `[gaffer] earlier lines of this log were dropped: it is kept to its last ${maxBytes} bytes (retention.logBytesPerJob)\n`;
}

/**
 * The text of the log entry that straddles a cut: the marker, then the entry's whole lines within
 * its last `room` bytes. Both stores use it, so they cut alike.
 */
export function cutEntry(data: Buffer, room: number, maxBytes: number): Buffer {
  const marker = Buffer.from(logTrimMarker(maxBytes), 'utf8');
  if (room <= 0) return marker;
  let from = Math.max(0, data.length - room);
  // Start at a line boundary: skip the partial line the byte cut landed in.
  if (from > 0 && data[from - 1] !== 0x0a) {
    const newline = data.indexOf(0x0a, from);
    from = newline < 0 ? data.length : newline + 1;
  }
  return Buffer.concat([marker, data.subarray(from)]);
}
