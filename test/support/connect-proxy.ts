// A real forward proxy for tests: Debian's tinyproxy on a free loopback port, in the foreground, logging every
// connection, so a test can read which host:port each CONNECT asked for. Stopped by PID.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { requireCommand, spawnTracked, stopTracked } from './process.js';

export interface ConnectProxy {
  /** http://127.0.0.1:<port>, for HTTP(S)_PROXY. */
  url: string;
  port: number;
  /** The host:port of every CONNECT so far, in order. */
  connectTargets(): Promise<string[]>;
  stop(): Promise<void>;
}

/** Starts tinyproxy with its configuration and log in dir; waits (up to 5 s) until it accepts connections. */
export async function startConnectProxy(dir: string): Promise<ConnectProxy> {
  const tinyproxy = await requireCommand('tinyproxy', 'tinyproxy');
  const port = await freePort();
  const log = join(dir, 'tinyproxy.log');
  const conf = join(dir, 'tinyproxy.conf');
  await writeFile(
    conf,
    `Port ${port}\nListen 127.0.0.1\nTimeout 30\nLogFile "${log}"\nLogLevel Connect\nMaxClients 20\nAllow 127.0.0.1\n`,
  );
  const child = spawnTracked(tinyproxy, ['-d', '-c', conf]);
  const deadline = Date.now() + 5000;
  for (;;) {
    if (child.hasExited()) throw new Error(`tinyproxy exited before listening: ${child.output()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) {
      await stopTracked(child);
      throw new Error(`tinyproxy did not listen on 127.0.0.1:${port} within 5000 ms: ${child.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    connectTargets: async () => {
      const text = existsSync(log) ? await readFile(log, 'utf8') : '';
      return [...text.matchAll(/CONNECT (\S+) HTTP/g)].map((m) => m[1]!);
    },
    stop: () => stopTracked(child),
  };
}
