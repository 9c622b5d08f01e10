import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server as GrpcJsServer } from '@grpc/grpc-js';
import { StartError } from './start-error.ts';

/**
 * The ports a gaffer serves on, bound before it opens its store: a `gaffer up` whose
 * port is taken refuses at once, having touched nothing. The HTTP server is a plain node:http
 * server, listening already, handed to Fastify through its `serverFactory`: Fastify builds its
 * request handler around the server it is given and never calls `listen` on it (the app is only
 * made `ready`). Requests that arrive before the app is ready are answered 503 with Retry-After
 * (gaffer is still opening its store), not left hanging. gRPC is bound the same way: grpc-js
 * serves the services added to a bound server from then on.
 *
 * Chosen over binding, closing and letting Fastify bind again (another process could take the
 * port in between) and over `listen({ fd })` (not offered by Fastify's listen).
 */
export interface BindRequest {
  host: string;
  port: number;
  /** Bind gRPC as well, on this port of `host` (0: a free one). */
  grpcPort?: number | undefined;
  /** gRPC's largest message (the HTTP API's body limit). */
  grpcMaxMessageBytes?: number;
  /**
   * Node's bounds on the HTTP server (headers, request and keep-alive timeouts): given when it is
   * made, since Fastify sets none on a server it is handed.
   */
  http?: ServerOptions;
}

export interface BoundGrpc {
  server: GrpcJsServer;
  port: number;
}

export interface BoundPorts {
  /** The HTTP server, listening. */
  readonly http: Server;
  /** Its address, as Fastify's `listen` would answer it (http://127.0.0.1:8080). */
  readonly url: string;
  readonly grpc: BoundGrpc | null;
  /** For Fastify's `serverFactory`: the listening server, which calls `handler` once `open`. */
  serverFactory(handler: (req: IncomingMessage, res: ServerResponse) => void): Server;
  /** Requests go to the handler from now on (the app is ready). */
  open(): void;
  /**
   * Stops listening: idle connections close at once, requests in flight get `graceMs`, then every
   * connection left (event streams) is closed. A gRPC server never served is shut down.
   */
  close(graceMs?: number): Promise<void>;
}

/** Binds the HTTP port (and gRPC's); rejects with a `StartError` when one is taken, none left bound. */
export async function bindPorts(req: BindRequest): Promise<BoundPorts> {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
  let open = false;
  const http = createServer(req.http ?? {}, (request, response) => {
    if (open && handler) return handler(request, response);
    response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
    response.end(
      JSON.stringify({
        error: { code: 'GAFFER_UNAVAILABLE', message: 'gaffer is starting; retry shortly' },
      }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', (err) => reject(portError(err, 'HTTP', req.host, req.port)));
    http.listen({ host: req.host, port: req.port }, () => resolve());
  });
  let grpc: BoundGrpc | null = null;
  if (req.grpcPort !== undefined) {
    try {
      grpc = await bindGrpc(req.host, req.grpcPort, req.grpcMaxMessageBytes);
    } catch (err) {
      await closeHttp(http, 0);
      throw err;
    }
  }
  let served = false;
  return {
    http,
    url: urlOf(http.address() as AddressInfo),
    grpc,
    serverFactory(h) {
      handler = h;
      return http;
    },
    open() {
      open = true;
      served = true;
    },
    async close(graceMs = 2000) {
      if (grpc && !served) grpc.server.forceShutdown();
      await closeHttp(http, graceMs);
    },
  };
}

async function bindGrpc(host: string, port: number, maxBytes?: number): Promise<BoundGrpc> {
  // Loaded only when served: gRPC and protobuf are ~15 MB of a gaffer at rest.
  const { Server, ServerCredentials } = await import('@grpc/grpc-js');
  const server = new Server(
    maxBytes === undefined ? {} : { 'grpc.max_receive_message_length': maxBytes },
  );
  const address = `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(portError(err, 'gRPC', host, port)) : resolve(p),
    );
  });
  return { server, port: bound };
}

function closeHttp(http: Server, graceMs: number): Promise<void> {
  if (!http.listening) return Promise.resolve();
  return new Promise((resolve) => {
    const cut = setTimeout(() => http.closeAllConnections(), graceMs);
    cut.unref();
    http.close(() => {
      clearTimeout(cut);
      resolve();
    });
    http.closeIdleConnections();
  });
}

/** A refusal that says which port and why; any other error as it came. */
function portError(err: unknown, what: string, host: string, port: number): unknown {
  const text = String((err as Error).message ?? err);
  const code = (err as { code?: string }).code;
  const where = `${host}:${port}`;
  if (code === 'EADDRINUSE' || /address already in use|EADDRINUSE/i.test(text)) {
    return new StartError(
      'GAFFER_PORT_IN_USE',
      `cannot serve ${what} on ${where}: the port is in use by another program (another ` +
        `gaffer?). Stop it, or give this gaffer another port (${what === 'HTTP' ? '--port, server.port' : 'server.grpcPort'})`,
      { cause: err },
    );
  }
  if (code === 'EACCES') {
    return new StartError(
      'GAFFER_PORT_IN_USE',
      `cannot serve ${what} on ${where}: permission denied (ports below 1024 need privileges)`,
      { cause: err },
    );
  }
  return err;
}

/** As Fastify's `listen` answers: the any-address is shown as the loopback one. */
function urlOf(a: AddressInfo): string {
  if (a.family === 'IPv6' || a.address.includes(':')) return `http://[${a.address}]:${a.port}`;
  return `http://${a.address === '0.0.0.0' ? '127.0.0.1' : a.address}:${a.port}`;
}
