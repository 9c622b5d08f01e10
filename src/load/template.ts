/**
 * Payload templates for `gaffer load`: JSON text with placeholders, expanded once per job.
 *
 *   {{i}}              the job's index in the run, from 0
 *   {{uuid}}           a random UUID (v4)
 *   {{rand:MIN:MAX}}   a random integer from MIN to MAX, both included
 *   {{now}}            the time the job is built, in ms since the epoch
 *
 * Hand-written: no template engine is a dependency (and none may be added here), and this set is
 * four placeholders whose values are only digits, hex and hyphens — nothing a JSON string needs
 * escaped — so a textual substitution, then JSON.parse, is the whole job. The template is parsed
 * once; an unknown placeholder or a text that does not become JSON is refused before any load.
 */

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** Where the random and time placeholders come from; tests pass fixed ones. */
export interface TemplateSources {
  uuid(): string;
  /** A float in [0, 1), as Math.random. */
  random(): number;
  now(): number;
}

export const systemSources: TemplateSources = {
  uuid: () => crypto.randomUUID(),
  random: Math.random,
  now: Date.now,
};

type Part =
  | string
  | { kind: 'i' }
  | { kind: 'uuid' }
  | { kind: 'now' }
  | { kind: 'rand'; min: number; max: number };

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
export const PLACEHOLDERS = ['{{i}}', '{{uuid}}', '{{rand:MIN:MAX}}', '{{now}}'];

/** Parses `text` once; the function it returns builds job `i`'s payload. Throws TemplateError. */
export function compileTemplate(
  text: string,
  sources: TemplateSources = systemSources,
): (i: number) => unknown {
  const parts = parse(text);
  const expand = (i: number) =>
    parts.map((p) => (typeof p === 'string' ? p : value(p, i, sources))).join('');
  try {
    JSON.parse(expand(0));
  } catch (err) {
    throw new TemplateError(
      `the payload template is not JSON once expanded: ${(err as Error).message}`,
    );
  }
  return (i) => JSON.parse(expand(i)) as unknown;
}

function parse(text: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    parts.push(text.slice(last, m.index));
    parts.push(placeholder(m[1]!));
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  return parts.filter((p) => p !== '');
}

function placeholder(name: string): Part {
  if (name === 'i' || name === 'uuid' || name === 'now') return { kind: name };
  const rand = /^rand:(-?\d+):(-?\d+)$/.exec(name);
  if (rand) {
    const [min, max] = [Number(rand[1]), Number(rand[2])];
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min > max) {
      throw new TemplateError(`{{${name}}}: MIN must be an integer no greater than MAX`);
    }
    return { kind: 'rand', min, max };
  }
  throw new TemplateError(`unknown placeholder {{${name}}} (known: ${PLACEHOLDERS.join(', ')})`);
}

function value(p: Exclude<Part, string>, i: number, s: TemplateSources): string {
  switch (p.kind) {
    case 'i':
      return String(i);
    case 'uuid':
      return s.uuid();
    case 'now':
      return String(s.now());
    case 'rand':
      return String(p.min + Math.floor(s.random() * (p.max - p.min + 1)));
  }
}
