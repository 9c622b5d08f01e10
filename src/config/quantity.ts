/**
 * Resource quantities in the configuration are written as Kubernetes writes them, whichever
 * executor reads them ("500m", "2", "4Gi", "1.5G").
 */

const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = {
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/**
 * A Kubernetes quantity ("500m", "2", "4Gi", "1.5G") as a number of base units. Written here
 * because @kubernetes/client-node keeps its parser (`quantityToScalar`) out of its public API.
 * Throws on anything else rather than guessing.
 */
export function quantity(q: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)([KMGTPE]i|[mkMGTPE]?)$/.exec(q.trim());
  if (!m) throw new Error(`not a Kubernetes quantity: "${q}"`);
  const scale = BINARY[m[2]!] ?? DECIMAL[m[2]!]!;
  return Number(m[1]) * scale;
}

/** CPU in millicores ("500m" → 500, "2" → 2000). */
export function millicores(q: string): number {
  return Math.round(quantity(q) * 1000);
}
