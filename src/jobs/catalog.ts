import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import type { CostConfig, JobTypeConfig, RouteRule } from '../config/schema.ts';

/**
 * The job types and route rules in force. Replaced whole on a config reload, so a running job
 * keeps the definition it was claimed under (the caller holds the old catalog).
 */
// ajv-formats is CommonJS: its default export arrives as the module object under ESM.
const addFormats = addFormatsPlugin as unknown as (ajv: Ajv) => Ajv;

export interface Catalog {
  type(name: string): JobTypeConfig | undefined;
  names(): string[];
  rules: readonly RouteRule[];
  cost: CostConfig;
  /** Validates a payload against the type's schema: null when valid, else the problems. */
  checkPayload(type: string, payload: unknown): string | null;
}

export function createCatalog(input: {
  jobTypes: Record<string, JobTypeConfig>;
  rules: readonly RouteRule[];
  cost: CostConfig;
}): Catalog {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const validators = new Map<string, ValidateFunction>();
  for (const [name, type] of Object.entries(input.jobTypes)) {
    if (type.payloadSchema) validators.set(name, ajv.compile(type.payloadSchema));
  }
  return {
    type: (name) => (Object.hasOwn(input.jobTypes, name) ? input.jobTypes[name] : undefined),
    names: () => Object.keys(input.jobTypes),
    rules: input.rules,
    cost: input.cost,
    checkPayload(type, payload) {
      const validate = validators.get(type);
      if (!validate || validate(payload)) return null;
      return ajv.errorsText(validate.errors, { dataVar: 'payload' });
    },
  };
}
