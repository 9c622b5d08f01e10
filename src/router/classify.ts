import type { CostConfig, RouteRule } from '../config/schema.ts';

/**
 * The router: which job type a submission that names none goes to, and why. Pure; the first
 * matching rule wins, and null means no rule matched (the caller answers GAFFER_NO_ROUTE).
 */

export interface Routable {
  payload: unknown;
  attributes: Record<string, unknown>;
  /** A number, or a priority name: "low" / "normal" / "high". */
  priority?: number | string | undefined;
}

export interface Routed {
  type: string;
  reason: string;
}

/** The default cost rules live with the config defaults (config sits below the router). */
export { DEFAULT_COST_RULES } from '../config/cost-rules.ts';

/**
 * Job models name the same attribute two ways (`rows` / `nr_of_rows`, …); the first name found
 * wins.
 */
const ALIASES: Record<string, readonly string[]> = {
  rows: ['rows', 'nr_of_rows'],
  nr_of_rows: ['rows', 'nr_of_rows'],
  estimated_runtime_sec: ['estimated_runtime_sec', 'estimated_runtime'],
  estimated_runtime: ['estimated_runtime_sec', 'estimated_runtime'],
  latency_sensitive: ['latency_sensitive', 'latency_sensitivity'],
  latency_sensitivity: ['latency_sensitive', 'latency_sensitivity'],
};

/** Reads a field from the attributes first, then from the payload when it is an object. */
export function fieldOf(sub: Routable, field: string): unknown {
  for (const name of ALIASES[field] ?? [field]) {
    if (Object.hasOwn(sub.attributes, name)) return sub.attributes[name];
    const payload = sub.payload;
    if (payload !== null && typeof payload === 'object' && Object.hasOwn(payload, name)) {
      return (payload as Record<string, unknown>)[name];
    }
  }
  return undefined;
}

/** A number from a number or a numeric string (CSV cells are strings); else null. */
function numeric(value: unknown): number | null {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}

/** Missing or non-numeric cost inputs add nothing. */
function numberOf(value: unknown): number {
  return numeric(value) ?? 0;
}

function isHigh(sub: Routable): boolean {
  const given = sub.priority ?? fieldOf(sub, 'priority');
  return typeof given === 'string' && given.toLowerCase() === 'high';
}

interface CostParts {
  cost: number;
  rows: number;
  runtime: number;
  priority: string;
}

function costParts(sub: Routable, cost: CostConfig): CostParts {
  const rows = numberOf(fieldOf(sub, 'rows'));
  const runtime = numberOf(fieldOf(sub, 'estimated_runtime_sec'));
  const base = rows / cost.rowsPerUnit + runtime / cost.secondsPerUnit;
  const high = isHigh(sub);
  return {
    cost: high ? base * cost.highPriorityFactor : base,
    rows,
    runtime,
    priority: high ? 'high' : String(sub.priority ?? fieldOf(sub, 'priority') ?? 'normal'),
  };
}

/**
 * The job's cost: rows / rowsPerUnit + runtime / secondsPerUnit, times highPriorityFactor for
 * priority "high". Missing or non-numeric inputs count as 0.
 */
export function costOf(sub: Routable, cost: CostConfig): number {
  return costParts(sub, cost).cost;
}

function describeCost(p: CostParts): string {
  return `cost ${p.cost.toFixed(2)} (rows ${p.rows}, runtime ${p.runtime} s, priority ${p.priority})`;
}

type Condition = NonNullable<RouteRule['when']>;

/**
 * Whether a condition holds, and the words saying why. Every clause given must hold; `equals` is
 * strict, except that the text of a CSV cell equals the boolean or number it spells ("true" = true),
 * so uploaded rows route like JSON; `above`/`atMost` need a numeric value (a missing field fails).
 */
function check(sub: Routable, when: Condition, parts: CostParts): { ok: boolean; why: string } {
  const hasField = when.field !== undefined;
  const value = hasField ? fieldOf(sub, when.field as string) : parts.cost;
  const label = hasField ? `${when.field} ${JSON.stringify(value)}` : describeCost(parts);
  const clauses: string[] = [];
  let ok = true;
  if (Object.hasOwn(when, 'equals')) {
    ok &&= value === when.equals || (typeof value === 'string' && value === String(when.equals));
    clauses.push(`= ${JSON.stringify(when.equals)}`);
  }
  if (when.above !== undefined) {
    const n = numeric(value);
    ok &&= n !== null && n > when.above;
    clauses.push(`> ${when.above}`);
  }
  if (when.atMost !== undefined) {
    const n = numeric(value);
    ok &&= n !== null && n <= when.atMost;
    clauses.push(`≤ ${when.atMost}`);
  }
  return { ok, why: `${label} ${clauses.join(' and ')}`.trim() };
}

/** The first rule that matches names the type; null when none does. */
export function classify(
  sub: Routable,
  rules: readonly RouteRule[],
  cost: CostConfig,
): Routed | null {
  const parts = costParts(sub, cost);
  for (const rule of rules) {
    if (!rule.when) {
      return { type: rule.type, reason: `${describeCost(parts)}: default → ${rule.type}` };
    }
    const { ok, why } = check(sub, rule.when, parts);
    if (ok) return { type: rule.type, reason: `${why} → ${rule.type}` };
  }
  return null;
}
