import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from 'ws';
import type { GafferError } from '../../errors.ts';
import type { Catalog } from '../../jobs/catalog.ts';
import type { WorkerGateway } from '../../jobs/worker-gateway.ts';
import { recordAudit, unverified, type AuditSink } from '../auth/audit.ts';
import { sameSecret } from '../auth/keys.ts';
import type { FailedAuthLimiter } from '../auth/failed-auth.ts';
import type { GafferMessage, WorkerConnection, WorkerMessage } from '../../worker/protocol.ts';

/**
 * Networked workers: `GET /v1/workers/connect` upgraded to a WebSocket that carries
 * worker/protocol.ts as JSON text frames. The worker needs gaffer's address and the worker token,
 * never the store's credentials. Its first message is `hello`, naming its worker id: a worker gaffer
 * started (network transport) and is waiting for takes its place; any other is a worker started
 * apart (`remote-<id>`). It is then a worker like a local one (the autoscaler counts it, may drain
 * it); when the socket closes, the jobs it held are retried. A second connection for a worker that
 * is connected is refused (4409). A wrong token is refused (4401), counted against the client's
 * address in the failed-authentication limit (over it: 4429) and recorded in the audit log. A process that cannot be given its worker id names itself as its
 * executor knows it (a Kubernetes pool pod: its pod name); the executor's `workerIdFor` translates,
 * or refuses a process it is removing (4410).
 */
export interface WorkerConnectDeps {
  gateway: Pick<WorkerGateway, 'connectionTarget' | 'register' | 'connected' | 'exited'>;
  catalog: () => Pick<Catalog, 'type'>;
  /** The token networked workers present (none: every connection is refused). */
  workerToken: string | undefined;
  /** The worker id a connecting process is known by; null: one being removed (4410). */
  workerIdFor: (named: string) => string | null;
  /** A worker gone: the autoscaler looks again now. */
  poke: () => void;
  audit: AuditSink;
  failedAuth: FailedAuthLimiter;
}

export const workerConnectRoutes: FastifyPluginAsync<WorkerConnectDeps> = async (app, deps) => {
  const { failedAuth } = deps;
  app.get(
    '/workers/connect',
    { config: { access: 'worker' }, websocket: true, schema: { hide: true } },
    async (socket, req) => {
      // A wrong token counts against the client's address, as a wrong API key does: past
      // auth.failedAuthLimit every attempt from it is refused (4429), the right token too.
      try {
        failedAuth.check(req.ip);
      } catch (err) {
        const { retryAfterSeconds } = (err as GafferError).details as { retryAfterSeconds: number };
        socket.close(
          4429,
          `GAFFER_RATE_LIMITED: too many failed authentications; retry in ${retryAfterSeconds} s`,
        );
        return;
      }
      const token = deps.workerToken;
      const given =
        bearer(req.headers.authorization) ?? (req.query as { token?: string }).token ?? '';
      if (!token || !sameSecret(given, token)) {
        failedAuth.failed(req.ip);
        await recordAudit(deps.audit, {
          actor: unverified(null),
          action: 'worker.connect',
          target: null,
          outcome: 'refused',
          details: { code: 'GAFFER_UNAUTHORIZED', ip: req.ip },
        });
        socket.close(4401, 'GAFFER_UNAUTHORIZED: a valid worker token is required');
        return;
      }
      socket.once('message', (data) => accept(deps, socket, data.toString()));
    },
  );
};

function accept(deps: WorkerConnectDeps, socket: WebSocket, first: string): void {
  const { gateway } = deps;
  const hello = parse(first);
  if (hello?.t !== 'hello' || !deps.catalog().type(hello.type)) {
    socket.close(4400, `GAFFER_UNKNOWN_TYPE: the first message must be hello for a known type`);
    return;
  }
  const workerId = deps.workerIdFor(hello.workerId);
  if (workerId === null) {
    socket.close(4410, `GAFFER_WORKER_RETIRED: ${hello.workerId} is being removed`); // src/errors.ts
    return;
  }
  const target = gateway.connectionTarget(workerId, hello.type);
  if (!target) {
    socket.close(4409, `GAFFER_WORKER_CONNECTED: worker ${workerId} is already connected`);
    return;
  }
  const { id } = target;
  const listeners: ((msg: WorkerMessage) => void)[] = [];
  const conn: WorkerConnection = {
    send: (msg: GafferMessage) => socket.send(JSON.stringify(msg)),
    onMessage: (fn) => listeners.push(fn),
    onClose: (fn) => socket.on('close', fn),
  };
  if (!target.started) {
    gateway.register({
      id,
      type: hello.type,
      mode: 'pool',
      concurrency: hello.concurrency ?? 1,
    });
  }
  gateway.connected(id, conn, hello.pid);
  socket.on('message', (data) => {
    const msg = parse(data.toString());
    if (msg) for (const fn of listeners) fn(msg);
  });
  socket.on(
    'close',
    () => void gateway.exited(id, null, 'disconnected').finally(() => deps.poke()),
  );
  for (const fn of listeners) fn(hello);
}

function parse(text: string): WorkerMessage | null {
  try {
    return JSON.parse(text) as WorkerMessage;
  } catch {
    return null;
  }
}

function bearer(header: string | undefined): string | undefined {
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined;
}
