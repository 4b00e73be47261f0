// A private dockerd for the Feature's container test. The three network flags keep it from touching
// the machine's firewall and bridges; it is stopped by PID and its network namespace mount removed.
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';

export interface Dockerd {
  /** unix:// address for DOCKER_HOST. */
  host: string;
  /** The socket's path on the host. */
  socket: string;
  /** The daemon's log, for failure messages. */
  log(): Promise<string>;
  stop(): Promise<void>;
}

/** Says why a private dockerd cannot run here, or undefined when it can. */
export function whyDockerdCannotRun(): string | undefined {
  if (process.getuid?.() !== 0) return 'dockerd needs root';
  for (const tool of ['/usr/sbin/dockerd', '/usr/bin/containerd', '/usr/sbin/runc']) {
    if (!existsSync(tool)) return `${tool} is missing; install it with: apt-get install -y docker.io`;
  }
  return undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts dockerd with its state in a new root-only directory under /tmp and waits until it answers. */
export async function startDockerd(): Promise<Dockerd> {
  // Short path: the daemon's and containerd's unix sockets live under it (108-byte limit).
  const dir = await mkdtemp('/tmp/rl-dockerd-');
  await chmod(dir, 0o700); // the socket is opened to the container's user below; the directory keeps host users out
  const [dataRoot, execRoot] = [path.join(dir, 'data'), path.join(dir, 'exec')];
  await Promise.all([mkdir(dataRoot), mkdir(execRoot)]);
  const socket = path.join(dir, 'docker.sock');
  const logPath = path.join(dir, 'dockerd.log');
  const logFile = await open(logPath, 'w');
  const child = spawn(
    'dockerd',
    [
      '--data-root',
      dataRoot,
      '--exec-root',
      execRoot,
      '-H',
      `unix://${socket}`,
      '--pidfile',
      path.join(dir, 'docker.pid'),
      '--bridge=none',
      '--iptables=false',
      '--ip-masq=false',
    ],
    { stdio: ['ignore', logFile.fd, logFile.fd] },
  );
  await logFile.close();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const host = `unix://${socket}`;

  const stop = async () => {
    if (child.exitCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
      if (!stopped) {
        process.kill(child.pid, 'SIGKILL');
        await exited;
      }
    }
    const netns = path.join(execRoot, 'netns', 'default');
    const mounts = await readFile('/proc/self/mounts', 'utf8');
    if (mounts.includes(` ${netns} `)) await execa('umount', [netns]);
    await rm(dir, { recursive: true, force: true });
  };

  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) {
      const log = await readFile(logPath, 'utf8');
      await stop();
      throw new Error(`dockerd exited during startup (exit ${child.exitCode}):\n${log.slice(-3000)}`);
    }
    const ping = await execa('docker', ['-H', host, 'version', '--format', '{{.Server.Version}}'], { reject: false });
    if (ping.exitCode === 0) break;
    if (attempt > 150) {
      const log = await readFile(logPath, 'utf8');
      await stop();
      throw new Error(`dockerd did not answer within 30 s:\n${log.slice(-3000)}`);
    }
    await sleep(200);
  }
  // The dev container's non-root user talks to this daemon through the bind-mounted socket.
  await chmod(socket, 0o666);
  return { host, socket, log: () => readFile(logPath, 'utf8'), stop };
}
