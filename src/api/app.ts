import fastifyHelmet from '@fastify/helmet';
import fastifyMultipart from '@fastify/multipart';
import fastifyWebsocket from '@fastify/websocket';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyServerFactory } from 'fastify';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { toView, type Job } from '../domain/job.ts';
import type { Orchestrator } from '../orchestrator.ts';
import { createMetrics } from '../metrics/metrics.ts';
import { handleClientError, handleError, handleNotFound } from './error-handler.ts';
import { strictJson } from './json-body.ts';
import { refuseForeignOrigins } from './origin.ts';
import { refuseForeignHosts } from './host-check.ts';
import { bodyTimeouts, limitConnections, serverOptions } from './timeouts.ts';
import { publicRoutes, requireDeclaredAccess } from './auth/access.ts';
import { registerAuth } from './auth/plugin.ts';
import type { AuthSource } from './auth/authenticate.ts';
import { authRoutes } from './auth/routes.ts';
import { logSerializers } from './auth/log-redact.ts';
import { LOG_REDACT } from '../log/logger.ts';
import { aliasRoutes } from './routes/aliases.ts';
import { batchRoutes } from './routes/batches.ts';
import { historyRoutes } from './routes/history.ts';
import { deadLetterRoutes } from './routes/dead-letters.ts';
import { eventRoutes } from './routes/events.ts';
import { jobRoutes } from './routes/jobs.ts';
import { opsRoutes } from './routes/ops.ts';
import { queueRoutes } from './routes/queues.ts';
import { runRoutes } from './routes/run.ts';
import { scheduleRoutes } from './routes/schedules.ts';
import { typeControlRoutes } from './routes/type-controls.ts';
import { workerConnectRoutes } from './routes/workers-connect.ts';
import { packageFile } from '../paths.ts';

const DASHBOARD_DIR = packageFile('dashboard');
// Resolved as a package, so it is found wherever npm put it (hoisted or not).
const UPLOT_DIR = path.dirname(fileURLToPath(import.meta.resolve('uplot')));

/**
 * The Content-Security-Policy of every answer (with @fastify/helmet's other security headers):
 * the dashboard loads its scripts, styles and data from gaffer only, runs no inline script or
 * style and may not be framed. helmet's defaults, but for styles from anywhere or inline (the
 * dashboard has none) and upgrade-insecure-requests (gaffer serves plain HTTP unless a proxy
 * adds TLS: upgraded requests would fail).
 */
const CSP = {
  defaultSrc: ["'self'"],
  baseUri: ["'self'"],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  imgSrc: ["'self'", 'data:'],
  objectSrc: ["'none'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'"],
  upgradeInsecureRequests: null,
};

function hideLeases(payload: unknown): unknown {
  if (typeof payload !== 'object' || payload === null) return payload;
  const p = payload as { job?: Job; jobs?: unknown };
  if (p.job && typeof p.job === 'object') return { ...p, job: toView(p.job) };
  if (Array.isArray(p.jobs)) return { ...p, jobs: (p.jobs as Job[]).map(toView) };
  return payload;
}

export interface AppOptions {
  /** Log requests (pino). Off in tests. */
  logger?: boolean;
  /** Where the log goes (default stdout): a test captures it to prove no secret is logged. */
  logStream?: NodeJS.WritableStream;
  /**
   * A server that listens already (src/library/ports.ts): Fastify's `serverFactory`. The app is
   * then never `listen`ed, only made `ready`, and the caller closes that server after the app.
   */
  serverFactory?: FastifyServerFactory;
}

/**
 * Builds the HTTP app without listening, so tests use `inject()`. Each route plugin is handed the
 * narrow dependencies it declares — services, never a store, an executor or the orchestrator.
 */
export async function buildApp(
  orch: Orchestrator,
  options: AppOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    // Credentials (Authorization, cookies, a worker token in a URL) never reach the log.
    logger: options.logger
      ? {
          level: 'info',
          redact: LOG_REDACT,
          serializers: logSerializers,
          ...(options.logStream ? { stream: options.logStream } : {}),
        }
      : false,
    bodyLimit: orch.config.server.bodyLimitBytes,
    ...serverOptions(orch.config.server),
    clientErrorHandler: handleClientError,
    // Union types (`type: ['integer', 'string']`): a value of a listed type is never coerced, so
    // "0x10" stays text for src/jobs/submission.ts to refuse rather than becoming 16.
    ajv: {
      customOptions: { coerceTypes: 'array', removeAdditional: false, allowUnionTypes: true },
    },
    ...(options.serverFactory ? { serverFactory: options.serverFactory } : {}),
  });
  app.setErrorHandler(handleError);
  limitConnections(app, orch.config.server);
  bodyTimeouts(app, orch.config.server);
  refuseForeignOrigins(app, () => orch.config.server.allowedOrigins);
  refuseForeignHosts(app, () => ({
    keys: orch.config.auth.keys.length,
    allowedOrigins: orch.config.server.allowedOrigins,
  }));
  await app.register(fastifyHelmet, { contentSecurityPolicy: { directives: CSP } });
  requireDeclaredAccess(app);
  const { service, services, events } = orch;
  const { batches, queues, audit } = services;
  const now = () => orch.clock.now();
  // The keys in force, read on every request: a reload may change them.
  const source: AuthSource = {
    get config() {
      return orch.config;
    },
  };
  const auth = await registerAuth(app, { source, now, workerToken: orch.workerToken, audit });
  strictJson(app);
  // Every answer that carries jobs shows them without their lease token (a worker's credential).
  app.addHook('preSerialization', async (_req, _reply, payload: unknown) => hideLeases(payload));
  app.setNotFoundHandler(handleNotFound);
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'gaffer',
        version: '1',
        description: 'Submit jobs, watch them run, see why workers scale.',
      },
    },
  });
  await app.register(fastifyWebsocket);
  await app.register(fastifyMultipart, {
    limits: { fileSize: orch.config.server.uploadLimitBytes, files: 1, fields: 20 },
  });
  const metrics = createMetrics(events, services.metrics);
  const catalog = () => orch.catalog;
  const upload = {
    batches,
    catalog,
    limits: () => orch.config.server,
  };
  await app.register(
    async (v1) => {
      await v1.register(jobRoutes, {
        service,
        batches,
        queues,
        audit,
        maxBatchJobs: () => orch.config.server.maxBatchJobs,
      });
      await v1.register(batchRoutes, { ...upload, audit });
      await v1.register(historyRoutes, { history: orch.history, now });
      await v1.register(deadLetterRoutes, { service, audit });
      await v1.register(queueRoutes, {
        queues,
        config: () => orch.config,
        reloader: () => orch.reloader,
        now,
        audit,
      });
      await v1.register(typeControlRoutes, { service });
      await v1.register(scheduleRoutes, { schedules: services.schedules });
      await v1.register(eventRoutes, { events, now });
      await v1.register(workerConnectRoutes, {
        gateway: orch.gateway,
        catalog,
        workerToken: orch.workerToken,
        workerIdFor: services.workerIdFor,
        poke: () => orch.loop.poke(),
        audit,
        failedAuth: auth.failedAuth,
      });
      await v1.register(runRoutes, { adhoc: () => orch.config.adhoc, service, audit });
      await v1.register(authRoutes, { source, audit, auth });
    },
    { prefix: '/v1' },
  );
  await app.register(opsRoutes, { metrics, queues });
  await app.register(aliasRoutes, { ...upload, service, queues });
  await app.register(async (files) => {
    publicRoutes(files);
    await files.register(fastifyStatic, {
      root: DASHBOARD_DIR,
      prefix: '/',
      index: ['index.html'],
      wildcard: false,
    });
    // The dashboard's chart library (uPlot, MIT), served from its npm package: no build step.
    await files.register(fastifyStatic, {
      root: UPLOT_DIR,
      prefix: '/vendor/uplot/',
      wildcard: false,
      decorateReply: false,
      allowedPath: (p) => /^\/uPlot\.(iife\.min\.js|min\.css)$/.test(p),
    });
  });
  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () =>
    app.swagger(),
  );
  return app;
}
