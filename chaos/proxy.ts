import net from 'node:net';

/**
 * A TCP proxy on loopback in front of a broker, so the chaos suite can make the broker
 * unreachable without stopping it: `blackhole(ms)` stops carrying bytes either way — the sockets
 * stay open and nothing answers, as in a network partition (no RST, no FIN) — and holds new
 * connections unanswered, then lets everything flow again. Written here because Toxiproxy (what
 * research/reliability.md names) is no Debian package; Node's `net` is all it takes.
 */
export interface Proxy {
  port: number;
  blackhole(ms: number): Promise<void>;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number): Promise<Proxy> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  let dark = false;
  const held = new Set<() => void>();
  const server = net.createServer((client) => {
    const connect = () => {
      const upstream = net.connect(targetPort, '127.0.0.1');
      const pair: [net.Socket, net.Socket] = [client, upstream];
      pairs.add(pair);
      client.pipe(upstream);
      upstream.pipe(client);
      const end = () => {
        pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    };
    if (dark) {
      client.pause(); // accepted by the kernel, unanswered until the partition heals
      held.add(connect);
      client.on('close', () => held.delete(connect));
    } else connect();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    async blackhole(ms) {
      dark = true;
      // Unpiped and paused: a piped stream resumes when its destination drains.
      for (const [a, b] of pairs) {
        a.unpipe(b);
        b.unpipe(a);
        a.pause();
        b.pause();
      }
      await new Promise((r) => setTimeout(r, ms)); // the fault's length
      dark = false;
      for (const [a, b] of pairs) {
        a.pipe(b);
        b.pipe(a);
      }
      for (const connect of held) connect();
      held.clear();
    },
    async close() {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
