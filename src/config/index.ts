/** The config component's public face: the schema (source of truth) and loading. */
export {
  ConfigSchema,
  JobTypeSchema,
  RouteRuleSchema,
  type CostConfig,
  type GafferConfig,
  type JobTypeConfig,
  type RouteRule,
  type ScalingConfig,
} from './schema.ts';
export {
  ConfigError,
  loadConfigFile,
  parseConfig,
  resolveConfig,
  type ConfigOverrides,
  type ConfigProblem,
  type ResolvedConfig,
} from './load.ts';
export { fromBareTypeMap } from './bare-type-map.ts';
export { DEFAULT_COST_RULES } from './cost-rules.ts';
