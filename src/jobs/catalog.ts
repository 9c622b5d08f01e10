import { Ajv, type ValidateFunction } from 'ajv';
import { GafferError } from '../errors.ts';
import addFormatsPlugin from 'ajv-formats';
import type { AdhocConfig, CostConfig, JobTypeConfig, RouteRule } from '../config/schema.ts';
import { adhocJobType, adhocPayload, imageProblem, isAdhocType } from '../worker/adhoc.ts';

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
  /** Where local data references may point (`storage.local.roots`); empty: nowhere. */
  dataRoots: readonly string[];
  /** The type of a CSV upload's rows when the upload names none (`routes.uploadType`). */
  uploadType?: string | undefined;
}

/** GAFFER_UNKNOWN_TYPE for `name`, listing the types there are (also as `details.known`). */
export function unknownType(catalog: Pick<Catalog, 'names'>, name: string): GafferError {
  const known = catalog.names();
  return new GafferError(
    'GAFFER_UNKNOWN_TYPE',
    `${JSON.stringify(name)} (known: ${known.join(', ') || 'none'})`,
    { details: { type: name, known } },
  );
}

export function createCatalog(input: {
  jobTypes: Record<string, JobTypeConfig>;
  rules: readonly RouteRule[];
  cost: CostConfig;
  /** When enabled, its type joins the configured ones (src/worker/adhoc.ts). */
  adhoc?: AdhocConfig;
  /** `storage.local.roots`; absent: none. */
  dataRoots?: readonly string[];
  uploadType?: string | undefined;
}): Catalog {
  const jobTypes = withAdhoc(input.jobTypes, input.adhoc);
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const validators = new Map<string, ValidateFunction>();
  for (const [name, type] of Object.entries(jobTypes)) {
    if (type.payloadSchema) validators.set(name, ajv.compile(type.payloadSchema));
  }
  return {
    type: (name) => (Object.hasOwn(jobTypes, name) ? jobTypes[name] : undefined),
    names: () => Object.keys(jobTypes),
    rules: input.rules,
    cost: input.cost,
    dataRoots: input.dataRoots ?? [],
    uploadType: input.uploadType,
    checkPayload(type, payload) {
      const validate = validators.get(type);
      if (validate && !validate(payload)) {
        return ajv.errorsText(validate.errors, { dataVar: 'payload' });
      }
      const config = Object.hasOwn(jobTypes, type) ? jobTypes[type] : undefined;
      if (!config || !isAdhocType(config)) return null;
      const { image } = adhocPayload(payload);
      return image === undefined ? null : imageProblem(image, config.adhoc);
    },
  };
}

/** The configured types plus the ad-hoc one when enabled; its name must be free. */
function withAdhoc(
  jobTypes: Record<string, JobTypeConfig>,
  adhoc: AdhocConfig | undefined,
): Record<string, JobTypeConfig> {
  if (!adhoc?.enabled) return jobTypes;
  if (Object.hasOwn(jobTypes, adhoc.name)) {
    throw new Error(`adhoc.name "${adhoc.name}" is also a configured job type: rename one`);
  }
  return { ...jobTypes, [adhoc.name]: adhocJobType(adhoc) };
}

/** The catalog a config declares (its LIVE_SECTIONS, config/diff.ts). Throws on a taken adhoc name. */
export function catalogOf(config: {
  jobTypes: Record<string, JobTypeConfig>;
  routes: { rules?: RouteRule[] | undefined; cost: CostConfig; uploadType?: string | undefined };
  adhoc: AdhocConfig;
  storage: { local: { roots: string[] } };
}): Catalog {
  return createCatalog({
    jobTypes: config.jobTypes,
    rules: config.routes.rules ?? [],
    cost: config.routes.cost,
    adhoc: config.adhoc,
    dataRoots: config.storage.local.roots,
    uploadType: config.routes.uploadType,
  });
}
