import { execFile } from 'node:child_process';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { serviceAvailable } from './servers/common.ts';

/** Where scripts/build-helm.sh puts helm (outside the repository). */
export const HELM_BIN = path.join(
  process.env['XDG_CACHE_HOME'] || path.join(homedir(), '.cache'),
  'gaffer',
  'bin',
  'helm',
);

export const REPO = path.resolve(import.meta.dirname, '../..');
export const CHART = path.join(REPO, 'deploy/helm/gaffer');

/** The chart's values file of each mode (deploy/helm/gaffer/ci/). */
export const MODES = [
  'sqlite',
  'postgres-rabbitmq',
  'kubernetes-per-job',
  'kubernetes-pool',
  'optional-parts',
] as const;
export const modeValues = (mode: (typeof MODES)[number]) =>
  path.join(CHART, 'ci', `${mode}-values.yaml`);

/**
 * Whether helm is built (bash scripts/build-helm.sh). Without it a suite skips — loudly — except
 * in CI, where that is a failure (`serviceAvailable` semantics).
 */
export const helmAvailable = () => serviceAvailable(HELM_BIN);

/** The outcome of one helm command: its exit code (0: success) and its output. */
export interface HelmRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs helm with `args` (never rejects: the caller reads `code`). */
export function helm(args: string[], env: NodeJS.ProcessEnv = {}): Promise<HelmRun> {
  return new Promise((resolve) => {
    execFile(
      HELM_BIN,
      args,
      {
        maxBuffer: 16 * 1024 * 1024,
        // helm's own cache, config and data stay out of the user's home.
        env: {
          ...process.env,
          HELM_CACHE_HOME: path.join(tmpdir(), 'gaffer-helm', 'cache'),
          HELM_CONFIG_HOME: path.join(tmpdir(), 'gaffer-helm', 'config'),
          HELM_DATA_HOME: path.join(tmpdir(), 'gaffer-helm', 'data'),
          ...env,
        },
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** `helm template` of the chart as release `gaffer` in `namespace`; rejects on an error. */
export async function template(args: string[] = [], namespace = 'gaffer'): Promise<string> {
  const run = await helm(['template', 'gaffer', CHART, '-n', namespace, ...args]);
  if (run.code !== 0) throw new Error(`helm template ${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}

/** The fields the chart's tests read, of any rendered object. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  spec?: Record<string, unknown>;
  rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
}

/** The objects of a multi-document YAML text (empty documents dropped). */
export const objects = (text: string): K8sObject[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
