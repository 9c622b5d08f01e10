// Writes docs/config.md, the configuration reference, from the schema's own descriptions
// (src/config/schema.ts) and the environment overrides (src/config/env.ts):
// `npx node scripts/gen-config-docs.ts`. test/config/docs.test.ts fails when the file differs.
// Hand-written rather than a JSON-Schema-to-Markdown package: those render one page per object
// and know nothing of gaffer's environment overrides; this walk is short and owns its layout.
import { writeFileSync } from 'node:fs';
import { API_KEYS_ENV, CONFIG_ENV } from '../src/config/env.ts';
import { ConfigSchema } from '../src/config/schema.ts';
import { packageFile } from '../src/paths.ts';

export const CONFIG_DOC_FILE = packageFile('docs', 'config.md');
export const CONFIG_DOC_COMMAND = 'npx node scripts/gen-config-docs.ts';

/** A JSON Schema node as TypeBox emits it (the subset the config schema uses). */
interface Node {
  type?: string;
  description?: string;
  default?: unknown;
  properties?: Record<string, Node>;
  required?: string[];
  patternProperties?: Record<string, Node>;
  items?: Node;
  anyOf?: Node[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  minItems?: number;
  pattern?: string;
}

/** A table of one object's fields, under a heading naming the object's path. */
interface Section {
  path: string;
  description: string;
  rows: string[];
}

const code = (text: string) => `\`${text}\``;
/** A table cell: pipes escaped (they would end the cell, even inside code), one line. */
const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function recordValue(node: Node): Node | undefined {
  return node.patternProperties ? Object.values(node.patternProperties)[0] : undefined;
}

function recordKeys(node: Node): string | undefined {
  const pattern = node.patternProperties ? Object.keys(node.patternProperties)[0] : undefined;
  return pattern === '^.*$' ? undefined : pattern;
}

function typeOf(node: Node): string {
  if (node.anyOf) {
    if (node.anyOf.every((b) => b.const !== undefined)) return typeof node.anyOf[0]!.const;
    return node.anyOf.map(typeOf).join(' | ');
  }
  if (node.type === 'array') return `${typeOf(node.items ?? {})}[]`;
  const value = recordValue(node);
  if (value) return `map of ${typeOf(value)}`;
  return node.type ?? 'any';
}

function boundsOf(node: Node): string[] {
  const out: string[] = [];
  if (node.anyOf?.every((b) => b.const !== undefined)) {
    out.push(`one of ${node.anyOf.map((b) => code(String(b.const))).join(', ')}`);
  } else if (node.anyOf) {
    out.push(...node.anyOf.flatMap(boundsOf));
  }
  if (node.minimum !== undefined) out.push(`≥ ${node.minimum}`);
  if (node.exclusiveMinimum !== undefined) out.push(`> ${node.exclusiveMinimum}`);
  if (node.maximum !== undefined) out.push(`≤ ${node.maximum}`);
  if (node.minLength !== undefined) out.push(`length ≥ ${node.minLength}`);
  if (node.minItems !== undefined) out.push(`at least ${node.minItems} item(s)`);
  if (node.pattern !== undefined) out.push(`matches ${code(node.pattern)}`);
  const keys = recordKeys(node);
  if (keys) out.push(`keys match ${code(keys)}`);
  if (node.type === 'array' && node.items) {
    out.push(...boundsOf(node.items).map((b) => `each ${b}`));
  }
  return out;
}

function defaultOf(node: Node, required: boolean): string {
  if (node.default !== undefined) {
    const isObject = node.type === 'object' && node.properties !== undefined;
    const empty = JSON.stringify(node.default) === '{}';
    return isObject && empty ? '' : code(JSON.stringify(node.default));
  }
  return required ? 'required' : '';
}

/** The object a field's documentation continues in, and that object's path. */
function nestedObject(path: string, node: Node): { path: string; node: Node } | undefined {
  if (node.properties) return { path, node };
  const value = recordValue(node);
  if (value?.properties) return { path: `${path}.<name>`, node: value };
  if (node.type === 'array' && node.items?.properties) {
    return { path: `${path}[]`, node: node.items };
  }
  return undefined;
}

/**
 * The sections of an object and of every object below it, depth first. An object whose fields
 * were documented already (the ad-hoc type's retry, scaling and kubernetes are a job type's) is
 * referred to rather than repeated.
 */
function sections(path: string, node: Node, seen: Map<string, string>): Section[] {
  seen.set(JSON.stringify(node.properties), path);
  const own: Section = { path, description: node.description ?? '', rows: [] };
  const below: Section[] = [];
  const required = new Set(node.required ?? []);
  for (const [key, field] of Object.entries(node.properties ?? {})) {
    const fieldPath = `${path}.${key}`;
    const nested = nestedObject(fieldPath, field);
    const same = nested && seen.get(JSON.stringify(nested.node.properties));
    let description = field.description ?? nested?.node.description ?? '';
    if (same) description = `${description} Fields as in ${code(same)}.`.trim();
    else if (nested) below.push(...sections(nested.path, nested.node, seen));
    const columns = [
      code(fieldPath),
      typeOf(field),
      defaultOf(field, required.has(key)),
      boundsOf(field).join(', '),
      description,
    ];
    own.rows.push(`| ${columns.map(cell).join(' | ')} |`);
  }
  return [own, ...below];
}

function renderTable(section: Section): string {
  const lines = section.description ? [section.description, ''] : [];
  lines.push('| field | type | default | bounds | meaning |', '| --- | --- | --- | --- | --- |');
  return [...lines, ...section.rows, ''].join('\n');
}

const renderSection = (section: Section) => `### ${code(section.path)}\n\n${renderTable(section)}`;

/** A top-level key: its own table (or, for a map, its entries' table), then those below. */
function renderTopLevel(key: string, node: Node, seen: Map<string, string>): string {
  const nested = nestedObject(key, node);
  if (!nested) return '';
  const [first, ...rest] = sections(nested.path, nested.node, seen);
  const head =
    nested.path === key
      ? renderTable(first!)
      : `${node.description ? `${node.description}\n\n` : ''}${renderSection(first!)}`;
  return [`## ${key}\n\n${head}`, ...rest.map(renderSection)].join('\n');
}

function renderEnvironment(): string {
  const rows = [...CONFIG_ENV, API_KEYS_ENV].map(
    (v) => `| ${code(v.name)} | ${code(v.path.join('.'))} | ${cell(v.meaning)} |`,
  );
  return `## Environment

Settings layer as defaults (above) < the file < these variables < \`gaffer up\`'s flags. A
variable that is unset or empty changes nothing.

| variable | sets | meaning |
| --- | --- | --- |
${rows.join('\n')}
`;
}

/** docs/config.md's text. */
export function configDocText(): string {
  const schema = JSON.parse(JSON.stringify(ConfigSchema)) as Node;
  const seen = new Map<string, string>();
  const body = Object.entries(schema.properties ?? {})
    .map(([key, node]) => renderTopLevel(key, node, seen))
    .join('\n');
  return `# Configuration reference

Every setting of a gaffer config file (YAML or JSON, \`gaffer up --config FILE\`), and the
environment variables that override them. This page is generated from the descriptions in
\`src/config/schema.ts\` and \`src/config/env.ts\` by \`${CONFIG_DOC_COMMAND}\`;
\`test/config/docs.test.ts\` checks they agree. The README's "Configuration" explains how the
settings work together (live reload, layering, retries); \`schema/gaffer.config.schema.json\` is
the same schema for editors.

A field with a default may be left out; "required" marks the few that must be given. A path with
\`<name>\` is a map: any key (matching the bounds) with a value of that shape; \`[]\` is a list.

${body}
${renderEnvironment()}`;
}

if (import.meta.main) writeFileSync(CONFIG_DOC_FILE, configDocText());
