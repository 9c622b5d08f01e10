import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Force-kills a process and everything below it. A worker runs each job in its own process group
 * (so it can kill one job's tree), which puts those trees out of reach of a kill of the worker's
 * group; once the worker is dead its children are re-parented and can no longer be found. So the
 * tree is listed first, then every member is SIGKILLed, and so is every group led by a member
 * (which catches what those groups fork meanwhile).
 */
export function killTree(rootPid: number): void {
  const pids = descendants(rootPid);
  signal(-rootPid);
  signal(rootPid);
  for (const pid of pids) {
    signal(-pid); // no-op unless pid leads a group (a job command does)
    signal(pid);
  }
}

function signal(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // ESRCH: already gone (or not a group leader).
  }
}

/** Every process below `root`, parents before children. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of processTable()) {
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  const out: number[] = [];
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const child of children.get(pid) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/** [pid, ppid] of every process: /proc on Linux, `ps` elsewhere. */
function processTable(): [number, number][] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return psTable();
  }
  const rows: [number, number][] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const ppid = procParent(name);
    if (ppid !== null) rows.push([Number(name), ppid]);
  }
  return rows;
}

/** Field 4 of /proc/<pid>/stat; the command name (field 2) may hold spaces, so parse after ')'. */
function procParent(pid: string): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[1]);
  } catch {
    return null; // exited while we listed
  }
}

function psTable(): [number, number][] {
  const text = execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  const rows: [number, number][] = [];
  for (const line of text.split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    if (pid && ppid !== undefined && !Number.isNaN(ppid)) rows.push([pid, ppid]);
  }
  return rows;
}
