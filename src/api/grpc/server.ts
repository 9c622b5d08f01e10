import {
  Server,
  ServerCredentials,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type Metadata,
} from '@grpc/grpc-js';
import { GafferError } from '../../errors.ts';
import type { ResolvedConfig } from '../../config/load.ts';
import type { Clock } from '../../domain/clock.ts';
import type { GafferEvents } from '../../domain/events.ts';
import type { Logger } from '../../domain/logger.ts';
import type { JobService } from '../../jobs/service.ts';
import type { Services } from '../../services.ts';
import type { Access, Principal } from '../auth/access.ts';
import { auditAction } from '../auth/audit.ts';
import { FailedAuthLimiter } from '../auth/failed-auth.ts';
import { requireRight } from '../auth/scope.ts';
import { authorizationOf, clientAddress, keyCheck, type Authenticate } from './access.ts';
import { GAFFER_SERVICE, HEALTH_SERVICE, serviceDefinition } from './definition.ts';
import { toServiceError } from './errors.ts';
import { toGafferError } from '../error-handler.ts';
import { gafferService } from './gaffer-service.ts';
import { runCommand } from '../run-command.ts';
import { healthService } from './health.ts';
import { withUnknownFields } from './unknown-fields.ts';
import type * as pb from './types.ts';

export interface GrpcServerOptions {
  host: string;
  /** 0: a free port (the one taken is in the answer). */
  port: number;
  /**
   * Who a call is, from its `authorization` metadata. Default: the HTTP API's key check
   * (`auth.keys`; with none configured, every call is the anonymous operator).
   */
  authenticate?: Authenticate;
  /** How long close() lets calls in flight finish before cutting them (default 5 s). */
  graceMs?: number;
  /**
   * A server already bound (src/library/ports.ts: `gaffer up` binds its ports before it opens the
   * store): the services are added to it, and `host` and `port` are not bound again.
   */
  bound?: { server: Server; port: number };
}

export interface GrpcServer {
  port: number;
  /** Ends open WatchJob streams (UNAVAILABLE), lets unary calls finish, then stops. */
  close(): Promise<void>;
}

/** What the gRPC server needs of gaffer (an Orchestrator fits): services, never the store. */
export interface GrpcDeps {
  service: Pick<JobService, 'submit' | 'get' | 'list' | 'cancel' | 'pause' | 'resume'>;
  services: Pick<Services, 'batches' | 'audit' | 'schedules' | 'queues'>;
  events: GafferEvents;
  /** The config in force: keys, limits, ad-hoc settings. */
  config: Pick<ResolvedConfig, 'auth' | 'server' | 'adhoc'>;
  clock: Clock;
  log: Pick<Logger, 'error'>;
}
type Caller = { metadata: Metadata; getPeer(): string };

/** The reason open watches are aborted with when the server closes. */
const CLOSING = Symbol('closing');

/**
 * Serves gaffer.v1.Gaffer and grpc.health.v1.Health on host:port (plaintext, like the HTTP API:
 * put TLS in front of both). Every Gaffer method calls the same JobService as the HTTP API.
 */
export async function startGrpcServer(
  orch: GrpcDeps,
  options: GrpcServerOptions,
): Promise<GrpcServer> {
  const authenticate = options.authenticate ?? keyCheck(orch);
  const limiter = new FailedAuthLimiter(
    () => orch.config.auth.failedAuthLimit,
    () => orch.clock.now(),
  );
  const runDeps = {
    adhoc: () => orch.config.adhoc,
    service: orch.service,
    audit: orch.services.audit,
  };
  const methods = gafferService({
    service: orch.service,
    batches: orch.services.batches,
    schedules: orch.services.schedules,
    queues: orch.services.queues,
    events: orch.events,
    maxBatchJobs: () => orch.config.server.maxBatchJobs,
    run: (principal, run) => runCommand(runDeps, principal, run, 'grpc'),
  });
  /** The status a call ends with; an unexpected error (GAFFER_INTERNAL) is logged with its stack. */
  const failure = (err: unknown) => {
    const internal = toGafferError(err).code === 'GAFFER_INTERNAL';
    if (internal) orch.log.error({ err }, 'gRPC: internal error');
    return toServiceError(err);
  };

  /** Who the caller is; a failed authentication counts against its address. */
  const who = async (call: Caller): Promise<Principal> => {
    const client = clientAddress(call.getPeer());
    limiter.check(client);
    try {
      return await authenticate(authorizationOf(call.metadata));
    } catch (err) {
      if (err instanceof GafferError && err.code === 'GAFFER_UNAUTHORIZED') limiter.failed(client);
      throw err;
    }
  };

  /**
   * A unary method: authenticate, check the right, run, answer or map the error. With `audit`,
   * an operator action: recorded in the audit log under that action name, refusals included, as
   * the HTTP API records its own, with `api: 'grpc'` in the details.
   */
  const unary =
    <Req, Res>(
      access: Access,
      fn: (p: Principal, req: Req) => Promise<Res>,
      audit?: string,
    ): handleUnaryCall<Req, Res> =>
    (call, callback) => {
      who(call)
        .then((principal) => {
          const run = async () => {
            requireRight(principal, access);
            return fn(principal, call.request);
          };
          const target = (call.request as { id?: string }).id || null;
          if (!audit) return run();
          return auditAction(
            orch.services.audit,
            principal,
            audit,
            target,
            run,
            () => ({ api: 'grpc' }),
            (code) => ({ code, api: 'grpc' }),
          );
        })
        .then(
          (res) => callback(null, res),
          (err: unknown) => callback(failure(err)),
        );
    };

  const watches = new Set<AbortController>();
  const watchJob: handleServerStreamingCall<pb.WatchJobRequest, pb.Job> = (call) => {
    const abort = new AbortController();
    watches.add(abort);
    call.on('cancelled', () => abort.abort());
    who(call)
      .then((principal) => {
        requireRight(principal, 'read');
        return methods.watchJob(principal, call.request, (job) => call.write(job), abort.signal);
      })
      .then(() => {
        if (call.cancelled) return;
        if (abort.signal.reason === CLOSING) {
          throw new GafferError('GAFFER_UNAVAILABLE', 'gaffer is stopping; watch again');
        }
        call.end();
      })
      .catch((err: unknown) => {
        if (!call.cancelled) call.emit('error', failure(err));
      })
      .finally(() => watches.delete(abort));
  };

  const health = healthService();
  const server =
    options.bound?.server ??
    new Server({
      // As large as the HTTP API's largest JSON body (grpc-js's default is 4 MiB).
      'grpc.max_receive_message_length': orch.config.server.bodyLimitBytes,
    });
  server.addService(withUnknownFields(serviceDefinition(GAFFER_SERVICE)), {
    SubmitJob: unary('submit', methods.submitJob),
    SubmitJobs: unary('submit', methods.submitJobs),
    GetJob: unary('read', methods.getJob),
    ListJobs: unary('read', methods.listJobs),
    CancelJob: unary('operate', methods.cancelJob, 'job.cancel'),
    RunCommand: unary('submit', methods.runCommand),
    PauseType: unary('operate', methods.pauseType),
    ResumeType: unary('operate', methods.resumeType),
    ListSchedules: unary('read', methods.listSchedules),
    TriggerSchedule: unary('operate', methods.triggerSchedule),
    WatchJob: watchJob,
  });
  server.addService(serviceDefinition(HEALTH_SERVICE), health.implementation);

  const port =
    options.bound?.port ??
    (await new Promise<number>((resolve, reject) => {
      server.bindAsync(
        `${bracketed(options.host)}:${options.port}`,
        ServerCredentials.createInsecure(),
        (err, bound) => (err ? reject(err) : resolve(bound)),
      );
    }));

  let closed: Promise<void> | null = null;
  const close = async () => {
    health.shutdown();
    for (const abort of watches) abort.abort(CLOSING);
    await new Promise<void>((resolve) => {
      const cut = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, options.graceMs ?? 5000);
      server.tryShutdown(() => {
        clearTimeout(cut);
        resolve();
      });
    });
  };
  return { port, close: () => (closed ??= close()) };
}

/** An IPv6 literal needs brackets in a host:port address. */
function bracketed(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
