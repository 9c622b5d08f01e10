import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CostConfig, RouteRule } from '../../src/config/schema.ts';
import { classify, costOf, DEFAULT_COST_RULES, type Routable } from '../../src/router/classify.ts';

const COST: CostConfig = { rowsPerUnit: 1_000_000, secondsPerUnit: 10, highPriorityFactor: 1.5 };

/** A `POST /submit-job` style submission: its JSON body is the payload, with no attributes. */
function body(payload: Record<string, unknown>, priority?: string): Routable {
  return { payload, attributes: {}, ...(priority ? { priority } : {}) };
}

describe('costOf', () => {
  const cases: [string, Routable, number][] = [
    ['rows and runtime', body({ rows: 5_000_000, estimated_runtime_sec: 100 }), 15],
    [
      'nr_of_rows / estimated_runtime aliases',
      body({ nr_of_rows: 2_000_000, estimated_runtime: 20 }),
      4,
    ],
    ['high priority ×1.5', body({ rows: 50_000_000, estimated_runtime_sec: 300 }, 'high'), 120],
    ['priority read from the payload', body({ rows: 2_000_000, priority: 'HIGH' }), 3],
    ['attributes before payload', { payload: { rows: 9e9 }, attributes: { rows: '1000000' } }, 1],
    ['nothing known costs 0', body({}), 0],
    ['non-object payload', { payload: 'hello', attributes: {} }, 0],
  ];
  for (const [name, sub, expected] of cases) {
    test(name, () => assert.equal(costOf(sub, COST), expected));
  }
});

describe('classify with DEFAULT_COST_RULES', () => {
  const cases: [string, Routable, string][] = [
    // The seed's three example submissions.
    [
      'latency sensitive → actor',
      body({ latency_sensitive: true, rows: 100, estimated_runtime_sec: 1 }),
      'actor',
    ],
    [
      'large high-priority → spark',
      body({ rows: 50_000_000, estimated_runtime_sec: 300 }, 'high'),
      'spark',
    ],
    // The seed calls this its "medium ML job", but its own formula gives 5 + 10 = 15 > 10: spark.
    [
      'seed "medium" example → spark by the formula',
      body({ rows: 5_000_000, estimated_runtime_sec: 100, priority: 'normal' }),
      'spark',
    ],
    ['cost 5 → ml', body({ rows: 5_000_000 }), 'ml'],
    ['latency_sensitivity alias → actor', body({ latency_sensitivity: true, rows: 9e9 }), 'actor'],
    ['latency false falls through', body({ latency_sensitive: false, rows: 1 }), 'batch'],
    ['latency "false" (a CSV cell) is not true', body({ latency_sensitive: 'false' }), 'batch'],
    ['latency 1 (a number) is not true: equals is strict', body({ latency_sensitive: 1 }), 'batch'],
    // Boundaries: "above" is strict.
    ['cost exactly 10 → ml', body({ rows: 10_000_000 }), 'ml'],
    ['cost just over 10 → spark', body({ rows: 10_000_001 }), 'spark'],
    ['cost exactly 4 → batch', body({ estimated_runtime_sec: 40 }), 'batch'],
    ['cost just over 4 → ml', body({ estimated_runtime_sec: 40.1 }), 'ml'],
    ['nothing known → batch', body({}), 'batch'],
  ];
  for (const [name, sub, type] of cases) {
    test(name, () => assert.equal(classify(sub, DEFAULT_COST_RULES, COST)?.type, type));
  }

  test('reasons explain the decision', () => {
    assert.equal(
      classify(body({ rows: 5_000_000 }, 'normal'), DEFAULT_COST_RULES, COST)?.reason,
      'cost 5.00 (rows 5000000, runtime 0 s, priority normal) > 4 → ml',
    );
    assert.equal(
      classify(body({ latency_sensitive: true }), DEFAULT_COST_RULES, COST)?.reason,
      'latency_sensitive true = true → actor',
    );
    assert.equal(
      classify(body({ estimated_runtime_sec: 40 }), DEFAULT_COST_RULES, COST)?.reason,
      'cost 4.00 (rows 0, runtime 40 s, priority normal): default → batch',
    );
  });
});

describe('classify with custom rules', () => {
  const rules: RouteRule[] = [
    { when: { field: 'kind', equals: 'pdf' }, type: 'pdf' },
    { when: { field: 'size', above: 100, atMost: 1000 }, type: 'medium' },
    { when: { atMost: 1 }, type: 'cheap' },
  ];
  const route = (sub: Routable) => classify(sub, rules, COST)?.type ?? null;

  test('first matching rule wins', () => {
    assert.equal(route({ payload: { kind: 'pdf', size: 500 }, attributes: {} }), 'pdf');
  });
  test('a field is read from attributes before the payload', () => {
    assert.equal(
      route({ payload: { kind: 'pdf' }, attributes: { kind: 'csv', size: 500 } }),
      'medium',
    );
  });
  test('numeric comparisons accept numeric strings and need both bounds', () => {
    assert.equal(route({ payload: { size: '500', rows: 9e9 }, attributes: {} }), 'medium');
    assert.equal(route({ payload: { size: 1001, rows: 9e9 }, attributes: {} }), null);
    assert.equal(route({ payload: { size: 100, rows: 9e9 }, attributes: {} }), null);
  });
  test('a missing field never matches a numeric condition', () => {
    const below: RouteRule[] = [{ when: { field: 'size', atMost: 10 }, type: 'x' }];
    assert.equal(classify(body({}), below, COST), null);
  });
  test('a condition without a field compares the cost', () => {
    assert.equal(route(body({ rows: 1_000_000 })), 'cheap');
    assert.equal(route(body({ rows: 1_000_001 })), null);
  });
  test('no rules → null', () => {
    assert.equal(classify(body({}), [], COST), null);
  });
});

test('a CSV cell spelling the value matches equals: "true" routes like true', () => {
  const routed = classify(
    { payload: { latency_sensitive: 'true', rows: '10' }, attributes: {} },
    DEFAULT_COST_RULES,
    COST,
  );
  assert.equal(routed?.type, 'actor');
});
