import net from 'node:net';

/** Asks the kernel for a currently unused TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  // Binding port 0 lets the kernel pick; the port can in theory be taken again before the
  // caller binds it, so servers that spawn children retry on EADDRINUSE (see registry.ts).
  return await new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('freePort: listening socket has no TCP address'));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
