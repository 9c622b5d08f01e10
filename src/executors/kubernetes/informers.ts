import { EventEmitter } from 'node:events';
import {
  makeInformer,
  type Informer,
  type KubernetesObject,
  type ObjectCache,
  type V1Job,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import type { Logger } from '../../domain/logger.ts';
import type { KubeApi } from './api.ts';
import { LABELS } from './job-manifest.ts';
import type { Scheduler } from '../../domain/clock.ts';

/**
 * The executor's watches: gaffer's Jobs and pods (label `app.kubernetes.io/managed-by=gaffer`) in
 * its namespace, and — with admission by the nodes' free allocatable — the nodes.
 *
 * Contract: each is client-node's informer (list, then watch from the list's resourceVersion; an
 * expired watch resumes from the last version seen, a 410 Gone relists) and its cache. A watch
 * that fails restarts itself after `RESTART_DELAY_MS`; every list after the first is reported on
 * `watchEvents` ('relist'). Handlers are attached before `start`, so no event is missed;
 * after `stop`, a failure restarts nothing.
 */
export interface Informers {
  readonly jobs: Watched<V1Job>;
  readonly pods: Watched<V1Pod>;
  /** null without node admission. */
  readonly nodes: Watched<V1Node> | null;
  readonly watchEvents: EventEmitter<{ relist: [resource: string] }>;
  /** Lists, then watches; resolves once every informer has listed. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export type Watched<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

export interface InformersOptions {
  api: Pick<KubeApi, 'kubeConfig' | 'listJobs' | 'listPods' | 'listNodes'>;
  namespace: string;
  /** Watch the nodes too (admission by their free allocatable). */
  nodes: boolean;
  clock: Pick<Scheduler, 'after'>;
  log: Pick<Logger, 'warn'>;
}

export const RESTART_DELAY_MS = 1000;

export function createInformers(o: InformersOptions): Informers {
  const { api, namespace } = o;
  const watchEvents = new EventEmitter<{ relist: [resource: string] }>();
  let closed = false;
  const selector = `${LABELS.managedBy}=gaffer`;

  /** An informer that restarts itself after an error, and reports each relist. */
  function informer<T extends KubernetesObject>(
    resource: string,
    path: string,
    list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>,
    labelSelector?: string,
  ): Watched<T> {
    let lists = 0;
    const listed = () => {
      if (++lists > 1) watchEvents.emit('relist', resource);
      return list() as ReturnType<typeof list> & Promise<never>;
    };
    const inf = makeInformer<T>(api.kubeConfig, path, listed, labelSelector);
    inf.on('error', (err) => {
      if (closed) return;
      o.log.warn({ resource, error: String(err) }, 'kubernetes: a watch failed; restarting it');
      o.clock.after(RESTART_DELAY_MS, () => void inf.start().catch(() => {}));
    });
    return inf;
  }

  const jobs = informer<V1Job>(
    'jobs',
    `/apis/batch/v1/namespaces/${namespace}/jobs`,
    () => api.listJobs(selector),
    selector,
  );
  const pods = informer<V1Pod>(
    'pods',
    `/api/v1/namespaces/${namespace}/pods`,
    () => api.listPods(selector),
    selector,
  );
  const nodes = o.nodes ? informer<V1Node>('nodes', '/api/v1/nodes', () => api.listNodes()) : null;

  return {
    jobs,
    pods,
    nodes,
    watchEvents,
    start: () => Promise.all([jobs.start(), pods.start(), nodes?.start()]).then(() => {}),
    async stop() {
      closed = true;
      await Promise.all([jobs.stop(), pods.stop(), nodes?.stop()]);
    },
  };
}
