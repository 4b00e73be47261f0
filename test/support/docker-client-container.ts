// The dev container the Feature tests create: debootstrapped bookworm with a non-root user, the host's
// Node.js, and the host's docker CLI, which talks to the test's private dockerd through its bind-mounted
// socket (both binaries run there: the host is bookworm too). --network=host lets the daemon and the
// client reach the test's registries on loopback.
import { importRootfsImage, rootfsUser } from './feature-rootfs.js';
import { requireCommand } from './process.js';

export const dockerClientImage = 'registry-login-test/bookworm-node:latest';

/** Imports the image into the daemon at dockerHost. */
export async function importDockerClientImage(dockerHost: string): Promise<void> {
  await importRootfsImage(dockerHost, dockerClientImage, [
    { source: process.execPath, target: '/usr/local/bin/node' },
    { source: await requireCommand('docker', 'docker.io'), target: '/usr/bin/docker' },
  ]);
}

/** The devcontainer.json members that run the image as its non-root user, with the daemon's socket. */
export function dockerClientContainer(dockerSocket: string) {
  return {
    image: dockerClientImage,
    remoteUser: rootfsUser,
    runArgs: ['--network=host'],
    mounts: [{ type: 'bind', source: dockerSocket, target: '/var/run/docker.sock' }],
  };
}
