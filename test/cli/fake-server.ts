import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A recorded request to the fake gaffer. */
export interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export type Handler = (req: Seen) => { status?: number; json?: unknown; text?: string };

/** A stand-in for the gaffer API: answers with `handler`, records every request. */
export async function fakeServer(handler: Handler) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      seen.push(s);
      const answer = handler(s);
      if (answer.text !== undefined) {
        res.writeHead(answer.status ?? 200, { 'content-type': 'text/plain' });
        res.end(answer.text);
      } else {
        res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer.json ?? {}));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export const notFound = {
  status: 404,
  json: { error: { code: 'GAFFER_JOB_NOT_FOUND', message: 'No job has this id: nope' } },
};

/** A loopback URL where nothing listens (a port bound, then released). */
export async function deadUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
