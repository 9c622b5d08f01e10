import type { RouteRule } from './schema.ts';

/**
 * The cost-based classifier as rules: latency-sensitive → actor; cost > 10 → spark; cost > 4 → ml;
 * anything else → batch. The default when a config names no rules but has these four types
 * (`COST_RULE_TYPES`).
 * Kept here, not in router/, because config is below the router and resolves the default; the
 * router re-exports it.
 */
export const DEFAULT_COST_RULES: RouteRule[] = [
  { when: { field: 'latency_sensitive', equals: true }, type: 'actor' },
  { when: { above: 10 }, type: 'spark' },
  { when: { above: 4 }, type: 'ml' },
  { type: 'batch' },
];

/** The types the default cost rules route to: a config with all four gets those rules. */
export const COST_RULE_TYPES: readonly string[] = ['actor', 'spark', 'ml', 'batch'];
