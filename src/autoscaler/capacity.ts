import type { ScalingConfig } from '../config/schema.ts';
import type { Decision, Observation } from './policy.ts';

/**
 * Global capacity shared across types: `autoscaler.capacity` workers of all types at once, by
 * scaling priority then weight; each type's `max` still caps its own share. Pure.
 */
export interface Claim {
  type: string;
  /** Workers the type keeps whatever happens: live (draining included) minus those it retires. */
  held: number;
  /** More workers it asks for. */
  want: number;
  priority: number;
  weight: number;
}

/**
 * How many of its wanted workers each type may start, given `free` slots: higher priority first
 * (a lower priority gets only what every higher one leaves), then among equal priorities by
 * weighted max-min fairness on the total each would hold — slot by slot, to the type whose
 * (held + granted + 1) / weight is smallest, ties in claim order. Never more than a type wants,
 * never more than `free` in all.
 */
export function allot(claims: readonly Claim[], free: number): number[] {
  const granted = claims.map(() => 0);
  let left = Math.max(0, Math.floor(free));
  const priorities = [...new Set(claims.map((c) => c.priority))].sort((a, b) => b - a);
  for (const p of priorities) {
    const group = claims.map((c, i) => ({ c, i })).filter((x) => x.c.priority === p);
    while (left > 0) {
      let best = -1;
      let bestLevel = Infinity;
      for (const { c, i } of group) {
        if (granted[i]! >= c.want) continue;
        const level = (c.held + granted[i]! + 1) / c.weight;
        if (level < bestLevel) {
          best = i;
          bestLevel = level;
        }
      }
      if (best < 0) break;
      granted[best]!++;
      left--;
    }
  }
  return granted;
}

/**
 * Trims each decision's starts to its share of the global capacity. When a type cannot start all
 * it wants, types holding more than their share — capacity split over every type's desired count
 * by the same priority-then-weight rule — and have nothing ready give back *idle* workers (idle,
 * no lease: invariant 5; no idle window, the room is needed now), longest idle first, so a starved type is not stuck behind another's spare pool. A type whose
 * decision changed says so in its reason and inputs.
 */
export function applyCapacity(
  items: readonly { obs: Observation; scaling: ScalingConfig }[],
  decisions: readonly Decision[],
  capacity: number | null | undefined,
): Decision[] {
  if (capacity == null || !Number.isFinite(capacity)) return [...decisions];
  const out = decisions.map((d) => ({ ...d, retire: [...d.retire] }));
  const claimsOf = (): Claim[] =>
    out.map((d, i) => {
      const { obs, scaling } = items[i]!;
      const live = obs.workers.filter((w) => w.state !== 'stopped').length;
      return {
        type: d.type,
        held: live - d.retire.length,
        want: decisions[i]!.start,
        priority: scaling.priority ?? 0,
        weight: scaling.weight ?? 1,
      };
    });
  const freeOf = (claims: Claim[]) => capacity - claims.reduce((n, c) => n + c.held, 0);
  let claims = claimsOf();
  let granted = allot(claims, freeOf(claims));
  const short = granted.reduce((n, g, i) => n + claims[i]!.want - g, 0);
  const given: string[][] = out.map(() => []);
  if (short > 0) {
    // Each type's share of the capacity over what it desires now.
    const shares = allot(
      claims.map((c, i) => ({
        ...c,
        held: 0,
        want: Math.max(0, Math.min(out[i]!.inputs.desired ?? 0, items[i]!.scaling.max)),
      })),
      capacity,
    );
    let need = short;
    for (const [i, d] of out.entries()) {
      if (need <= 0) break;
      const over = claims[i]!.held - shares[i]!;
      const { obs } = items[i]!;
      // Per-job workers end with their job: nothing to give back.
      // Only a type with nothing ready gives back: never scale in with work ready.
      if (over <= 0 || d.start > 0 || obs.mode === 'per-job' || obs.ready > 0) continue;
      const idle = obs.workers
        .filter((w) => w.state === 'idle' && w.active === 0 && !d.retire.includes(w.id))
        .sort((a, b) => (a.idleSince ?? 0) - (b.idleSince ?? 0) || a.id.localeCompare(b.id))
        .slice(0, Math.min(over, need));
      for (const w of idle) given[i]!.push(w.id);
      d.retire.push(...given[i]!);
      need -= idle.length;
    }
    claims = claimsOf();
    granted = allot(claims, freeOf(claims));
  }
  const free = freeOf(claims);
  return out.map((d, i) => {
    const start = granted[i]!;
    const c = claims[i]!;
    const gave = given[i]!;
    if (start === d.start && gave.length === 0) return decisions[i]!;
    const to = d.from + start - d.retire.length;
    const share = `global capacity ${capacity} (priority ${c.priority}, weight ${c.weight})`;
    const note =
      gave.length > 0
        ? `${share}: gives back idle ${gave.join(', ')} to a type that is short`
        : `${share}, ${Math.max(0, free)} free after the others, allows ${start} of ${d.start}`;
    const arrow = to === d.from ? `hold at ${d.from}` : `${d.from} → ${to}`;
    return {
      ...d,
      start,
      to,
      reason: `${arrow}: ${note}; alone: ${decisions[i]!.reason}`,
      inputs: { ...d.inputs, capacity, capacityFree: Math.max(0, free), wanted: d.start },
    };
  });
}
