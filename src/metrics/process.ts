import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU and memory of local worker processes, read from /proc at scrape time (per-worker resource
 * utilization). Hand-written because prom-client's process collector reads only the current
 * process, and no dependency of gaffer reads other processes' /proc entries; it is a few lines of
 * documented file formats (proc(5)). Linux only: elsewhere nothing is sampled.
 *
 * A worker runs its jobs as child processes (commands, sandboxes), so a worker's sample is its
 * whole tree: CPU is utime + stime + cutime + cstime of every live member (a reaped child's time
 * moves into its parent's c-times, so nothing is counted twice), memory the sum of their VmRSS
 * (pages shared between members are counted in each: an upper bound).
 */
export interface ProcessSample {
  /** CPU time used by the tree so far, seconds. */
  cpuSeconds: number;
  /** Resident memory of the tree now, bytes. */
  rssBytes: number;
}

/**
 * USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every architecture Linux exports to user
 * space (sysconf(_SC_CLK_TCK)), which Node cannot query.
 */
const CLOCK_TICKS = 100;

interface Row {
  ppid: number;
  ticks: number;
}

/** Samples each root's process tree; roots that are gone are missing from the result. */
export function sampleTrees(roots: readonly number[]): Map<number, ProcessSample> {
  const out = new Map<number, ProcessSample>();
  if (roots.length === 0) return out;
  const table = processTable();
  const children = new Map<number, number[]>();
  for (const [pid, row] of table) {
    const list = children.get(row.ppid);
    if (list) list.push(pid);
    else children.set(row.ppid, [pid]);
  }
  for (const root of roots) {
    if (!table.has(root)) continue;
    let ticks = 0;
    let rssBytes = 0;
    const queue = [root];
    for (let pid = queue.pop(); pid !== undefined; pid = queue.pop()) {
      ticks += table.get(pid)?.ticks ?? 0;
      rssBytes += residentBytes(pid);
      queue.push(...(children.get(pid) ?? []));
    }
    out.set(root, { cpuSeconds: ticks / CLOCK_TICKS, rssBytes });
  }
  return out;
}

/** Every process's parent and CPU ticks; empty without /proc. */
function processTable(): Map<number, Row> {
  const rows = new Map<number, Row>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return rows;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const row = readStat(name);
    if (row) rows.set(Number(name), row);
  }
  return rows;
}

/**
 * /proc/<pid>/stat: the command name (field 2) is in parentheses and may hold spaces, so fields
 * are counted after the last ')': ppid is field 4, utime..cstime fields 14–17.
 */
export function parseStat(stat: string): Row | null {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const num = (field: number) => Number(fields[field - 3]);
  const ticks = num(14) + num(15) + num(16) + num(17);
  const ppid = num(4);
  return Number.isFinite(ticks) && Number.isFinite(ppid) ? { ppid, ticks } : null;
}

function readStat(pid: string): Row | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null; // exited while we listed
  }
}

/** VmRSS of /proc/<pid>/status, in bytes (the file says kB); 0 for a zombie or a gone process. */
export function parseVmRss(status: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

function residentBytes(pid: number): number {
  try {
    return parseVmRss(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return 0;
  }
}
