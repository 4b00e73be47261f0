// A stalled peer for tests of bounded waits: a proxy that never answers CONNECT, a registry or AWS endpoint that never
// speaks.
import net from 'node:net';

/** A listener on 127.0.0.1 that accepts every connection, reads, and never writes a byte. */
export interface Silent {
  url: string;
  port: number;
  /** What clients sent, per connection. */
  received: string[];
  close(): Promise<void>;
}

export async function startSilent(): Promise<Silent> {
  const sockets = new Set<net.Socket>();
  const received: string[] = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const index = received.push('') - 1;
    socket.on('data', (chunk: Buffer) => (received[index] += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
