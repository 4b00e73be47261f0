// Runs inside the private mount + network namespace that publish.test.ts makes, where ghcr.io is 127.0.0.1:
// publishes the staged Feature with the real `devcontainer features publish` to local docker-registry
// servers and consumes it by its OCI reference through `devcontainer up` with a private dockerd.
//
// - ghcr.io:443 (TLS, a test CA given to the CLI with NODE_EXTRA_CA_CERTS) holds stand-ins for the Features
//   the published installsAfter names, published by the same CLI. The CLI fetches their metadata to order
//   the installation; it never installs them (their install.sh fails loudly if it ever did).
// - localhost:OPEN, an open registry over plain http: the CLI speaks plain http only to the literal host
//   `localhost` (any other name, 127.0.0.1 included, gets https).
// - localhost:PRIVATE, the same behind a password, holding the Feature and the image the container pulls.
//   `devcontainer up` can fetch the Feature there only after initializeCommand logged the host in. For
//   each OCI registry the CLI 0.89 takes credentials from DEVCONTAINERS_OCI_AUTH, else the docker config
//   ($DOCKER_CONFIG/config.json or ~/.docker/config.json: credHelpers[host], else credsStore, else
//   auths[host]), else GITHUB_TOKEN for ghcr.io, else (a config with no auth at all) the platform's
//   default store.
//
// Prints one JSON report on stdout, with every secret replaced by ***.
import { execa } from 'execa';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { BIN, REPO } from '../support/agent.js';
import { startDockerd } from '../support/feature-dockerd.js';
import { dockerClientContainer, importDockerClientImage } from '../support/docker-client-container.js';
import { pushTestImage } from '../support/oci-image.js';
import { startRegistry } from '../support/registry.js';

/** The Features the published devcontainer-feature.json names in installsAfter live in this namespace. */
const STAND_IN_NAMESPACE = 'devcontainers/features';
/** Where the Feature is published, as the release workflow does for an owner "acme". */
const NAMESPACE = 'acme/registry-login';
const image = { repo: 'feature-test/hello', tag: 'v1' };
const devcontainerCli = path.join(REPO, 'node_modules', '.bin', 'devcontainer');

/** The host login initializeCommand makes before the CLI fetches the Feature, as the README documents it. */
const HOST_LOGIN_COMMAND = 'registry-login refresh --host --hook || echo registry-login is not installed: see README';

export interface CliRun {
  exitCode: number;
  /** The last part of the output, secrets replaced by ***. */
  tail: string;
  /** The lines that mark the steps of `devcontainer up` (initializeCommand, Feature fetch, Feature hooks), in order. */
  steps: string[];
}

const STEP =
  /Running the initializeCommand|Resolving Feature dependencies|Could not resolve Feature|Running the postCreateCommand from Feature/;

export interface WorkspaceReport {
  up: CliRun;
  /** Output of the check run with `devcontainer exec` as the remote user (only when up succeeded). */
  inside?: CliRun;
  /** The RepoDigests the daemon holds for the image after the check pulled it. */
  pulledDigests?: string[];
}

export interface PublishReport {
  version: string;
  featureRefs: { open: string; private: string };
  publish: { standIns: CliRun; open: CliRun; private: CliRun };
  /** The tags /v2/<name>/tags/list lists after publishing. */
  tags: { open: string[]; private: string[] };
  expectedDigest: string;
  imageRef: string;
  open: WorkspaceReport;
  privateWithoutLogin: WorkspaceReport;
  privateWithLogin: WorkspaceReport;
  /** Paths the ghcr.io stand-in served while the workspaces came up. */
  standInRequests: string[];
  /** Lines of CLI output that held a secret outside the CLI's own echo of remoteEnv. */
  leaks: string[];
}

function getJson(url: string, auth?: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const headers = auth ? { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : undefined;
    http
      .get(url, { headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(JSON.parse(body))
            : reject(new Error(`GET ${url}: ${String(res.statusCode)} ${body}`)),
        );
      })
      .on('error', reject);
  });
}

async function main(): Promise<void> {
  const [work, featureCollection, version] = process.argv.slice(2);
  if (!work || !featureCollection || !version)
    throw new Error('usage: publish.scenario.ts WORKDIR STAGED_FEATURE_COLLECTION VERSION');
  const robot = { user: 'publish-robot', password: process.env.PUBTEST_ROBOT_PASSWORD ?? '' };
  if (robot.password === '') throw new Error('PUBTEST_ROBOT_PASSWORD is not set');
  const secrets = [robot.password];
  const redact = (text: string) => secrets.reduce((out, secret) => out.split(secret).join('***'), text);
  const leaks: string[] = [];
  const cliEnvBase = { PATH: process.env.PATH ?? '', HOME: work, LANG: 'C.UTF-8', TMPDIR: path.join(work, 'tmp') };
  await mkdir(cliEnvBase.TMPDIR, { recursive: true });

  const runCli = async (args: string[], env: Record<string, string>, cwd = work): Promise<CliRun> => {
    const result = await execa(devcontainerCli, args, {
      cwd,
      env: { ...cliEnvBase, ...env },
      extendEnv: false,
      all: true,
      reject: false,
      timeout: 480_000,
    });
    const output = result.all ?? '';
    for (const line of output.split('\n')) {
      // The CLI echoes the container's remoteEnv when it applies it; that echo is the CLI's, not ours.
      if (secrets.some((secret) => line.includes(secret)) && !line.includes('PUBTEST_CONTAINER_REGISTRY_PASSWORD'))
        leaks.push(redact(line).slice(0, 300));
    }
    const steps = output
      .split('\n')
      .filter((line) => STEP.test(line))
      .map((line) => redact(line.replace(/^\[[^\]]*\]\s*/, '').trim()).slice(0, 200));
    return { exitCode: result.exitCode ?? -1, tail: redact(output).slice(-5000), steps };
  };

  // A docker config per role, each naming no credential store, so that neither docker nor the devcontainer
  // CLI falls back to the platform's default store (pass, secretservice) of whatever machine runs this.
  const dockerConfig = async (name: string) => {
    const dir = path.join(work, name);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(path.join(dir, 'config.json'), '{\n  "auths": {}\n}\n', { mode: 0o600 });
    return dir;
  };

  const ghcr = await startRegistry({ tls: true, port: 443, tlsSans: ['ghcr.io'], dir: path.join(work, 'ghcr') });
  const open = await startRegistry({ dir: path.join(work, 'open') });
  const priv = await startRegistry({ dir: path.join(work, 'private'), auth: { kind: 'htpasswd', users: [robot] } });
  const dockerd = await startDockerd();
  try {
    const caEnv = { NODE_EXTRA_CA_CERTS: ghcr.certPath! };
    const openHost = `localhost:${String(open.port)}`;
    const privateHost = `localhost:${String(priv.port)}`;

    // Stand-ins for the Features installsAfter names, published under their own names.
    const standIns = path.join(work, 'stand-ins');
    for (const id of ['common-utils', 'node']) {
      await mkdir(path.join(standIns, id), { recursive: true });
      await writeFile(
        path.join(standIns, id, 'devcontainer-feature.json'),
        JSON.stringify(
          { id, version: '1.0.0', name: `test stand-in for ghcr.io/${STAND_IN_NAMESPACE}/${id}` },
          null,
          2,
        ),
      );
      await writeFile(
        path.join(standIns, id, 'install.sh'),
        `#!/bin/sh\necho 'the stand-in for ${id} must never be installed' >&2\nexit 1\n`,
        { mode: 0o755 },
      );
    }
    const publishArgs = (target: string, registry: string, namespace: string) => [
      'features',
      'publish',
      target,
      '--registry',
      registry,
      '--namespace',
      namespace,
      '--log-level',
      'info',
    ];
    const publishedStandIns = await runCli(publishArgs(standIns, 'ghcr.io', STAND_IN_NAMESPACE), {
      ...caEnv,
      DOCKER_CONFIG: await dockerConfig('stand-in-publisher'),
    });

    // The Feature, published from the staged folder exactly as the release workflow does.
    const publishedOpen = await runCli(publishArgs(featureCollection, openHost, NAMESPACE), {
      DOCKER_CONFIG: await dockerConfig('open-publisher'),
    });
    const privatePublisher = await dockerConfig('private-publisher');
    await execa('docker', ['login', privateHost, '-u', robot.user, '--password-stdin'], {
      input: robot.password,
      env: { PATH: cliEnvBase.PATH, DOCKER_CONFIG: privatePublisher },
      extendEnv: false,
    });
    const publishedPrivate = await runCli(publishArgs(featureCollection, privateHost, NAMESPACE), {
      DOCKER_CONFIG: privatePublisher,
    });
    const tagsOf = async (registry: typeof open, auth?: string) =>
      (
        (await getJson(`${registry.url}/v2/${NAMESPACE}/registry-login/tags/list`, auth).catch(() => ({
          tags: [],
        }))) as { tags?: string[] }
      ).tags ?? [];
    const tags = { open: await tagsOf(open), private: await tagsOf(priv, `${robot.user}:${robot.password}`) };

    // The image the container pulls with the login the Feature makes (its own key, 127.0.0.1:PORT, apart
    // from the host's localhost:PORT login for the Feature itself).
    const expectedDigest = await pushTestImage(priv.host, image.repo, image.tag, { creds: robot });
    const imageRef = `${priv.host}/${image.repo}:${image.tag}`;
    await importDockerClientImage(dockerd.host);

    const standInLogStart = ghcr.output().length;
    const upWorkspace = async (
      name: string,
      featureRef: string,
      extra: Record<string, unknown>,
    ): Promise<WorkspaceReport> => {
      const folder = path.join(work, 'workspaces', name);
      await mkdir(path.join(folder, '.devcontainer'), { recursive: true });
      const config = {
        ...dockerClientContainer(dockerd.socket),
        containerEnv: { PUBTEST_CONTAINER_REGISTRY_SERVER: priv.host },
        remoteEnv: {
          PUBTEST_CONTAINER_REGISTRY_USER: '${localEnv:PUBTEST_USER}',
          PUBTEST_CONTAINER_REGISTRY_PASSWORD: '${localEnv:PUBTEST_PASSWORD}',
          IMAGE: imageRef,
        },
        features: { [featureRef]: {} },
        ...extra,
      };
      await writeFile(path.join(folder, '.devcontainer', 'devcontainer.json'), JSON.stringify(config, null, 2));
      // The host's environment: the secrets the container gets, and the triple the host login reads.
      const env = {
        ...caEnv,
        // The project's launchers, as a host that installed the npm package has them.
        PATH: `${BIN}:${cliEnvBase.PATH}`,
        DOCKER_HOST: dockerd.host,
        DOCKER_CONFIG: await dockerConfig(`host-docker-${name}`),
        PUBTEST_USER: robot.user,
        PUBTEST_PASSWORD: robot.password,
        HOSTREG_CONTAINER_REGISTRY_SERVER: privateHost,
        HOSTREG_CONTAINER_REGISTRY_USER: robot.user,
        HOSTREG_CONTAINER_REGISTRY_PASSWORD: robot.password,
      };
      const up = await runCli(['up', '--workspace-folder', folder, '--log-level', 'info'], env);
      if (up.exitCode !== 0) return { up };
      const check = [
        'set -e',
        'echo "user=$(id -un)"',
        'echo "version=$(registry-login --version)"',
        'docker pull "$IMAGE"',
      ].join('\n');
      const inside = await runCli(['exec', '--workspace-folder', folder, 'sh', '-c', check], env);
      const inspect = await execa(
        'docker',
        ['-H', dockerd.host, 'image', 'inspect', '--format', '{{json .RepoDigests}}', imageRef],
        { reject: false },
      );
      const pulledDigests = inspect.exitCode === 0 ? (JSON.parse(inspect.stdout) as string[]) : [];
      // Each workspace must pull for itself.
      await execa('docker', ['-H', dockerd.host, 'rmi', imageRef], { reject: false });
      return { up, inside, pulledDigests };
    };

    const featureRefs = {
      // The major-version tag, as the README tells users to reference it.
      open: `${openHost}/${NAMESPACE}/registry-login:${version.split('.')[0]!}`,
      // A pinned version.
      private: `${privateHost}/${NAMESPACE}/registry-login:${version}`,
    };
    const openReport = await upWorkspace('open', featureRefs.open, {});
    const privateWithoutLogin = await upWorkspace('private-without-login', featureRefs.private, {});
    const privateWithLogin = await upWorkspace('private-with-login', featureRefs.private, {
      initializeCommand: HOST_LOGIN_COMMAND,
    });
    const standInRequests = [
      ...new Set(
        ghcr
          .output()
          .slice(standInLogStart)
          .match(/"(?:GET|HEAD) [^ "]+/g)
          ?.map((request) => request.slice(1)) ?? [],
      ),
    ];

    const report: PublishReport = {
      version,
      featureRefs,
      publish: {
        standIns: publishedStandIns,
        open: publishedOpen,
        private: publishedPrivate,
      },
      tags,
      expectedDigest: `${priv.host}/${image.repo}@${expectedDigest}`,
      imageRef,
      open: openReport,
      privateWithoutLogin,
      privateWithLogin,
      standInRequests,
      leaks,
    };
    const text = JSON.stringify(report);
    if (secrets.some((secret) => text.includes(secret))) throw new Error('the report would hold a secret');
    process.stdout.write(`${text}\n`);
  } finally {
    await dockerd.stop();
    await Promise.all([ghcr.stop(), open.stop(), priv.stop()]);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`publish scenario failed: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exitCode = 1;
});
