// What the benchmarks share: where the built CLI is and the check that it is built, timing a run, failed checks, the
// median, the environment a run of the CLI gets, an ECR registry's variables, and the usual way (aws ecr
// get-login-password | docker login): its environment, its command line and the loopback registries docker logs in to.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const cli = join(root, 'bin', 'registry-login');
export const helper = join(root, 'bin', 'docker-credential-registry-login');

/** Exits 2 unless `npm run build` has made dist/<built>; script names the benchmark in the message. */
export function requireBuild(script, built = 'registry-login.cjs') {
  if (!existsSync(join(root, 'dist', built))) {
    console.error(`${script}: dist/ is missing; run \`npm run build\` first.`);
    process.exit(2);
  }
}

/**
 * Runs argv and resolves with its wall milliseconds, or rejects with `<argv> exited <code>: <stderr>`. Its stdin is a
 * pipe that gets input (or nothing), or none with { stdin: 'ignore' }; { shell: true } runs argv, a command line, with
 * bash -o pipefail; { stderrTail: n } keeps only the last n characters of stderr in the error. Asynchronous: the
 * stand-in answers from this same process, so the event loop must keep running.
 */
export function timed(argv, env, input, { shell = false, stdin = 'pipe', stderrTail } = {}) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const [file, args] = shell ? ['/bin/bash', ['-o', 'pipefail', '-c', argv]] : [argv[0], argv.slice(1)];
    const child = spawn(file, args, { env, stdio: [stdin, 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const what = shell ? argv : argv.join(' ');
      if (code !== 0) reject(new Error(`${what} exited ${code}: ${stderrTail ? err.slice(-stderrTail) : err}`));
      else resolve(ms);
    });
    child.stdin?.end(input ?? '');
  });
}

/** check(ok, what) prints `FAILED: <what>` unless ok; failed() tells whether any check has failed so far. */
export function checks() {
  let failedAny = false;
  return {
    check: (ok, what) => {
      if (!ok) {
        failedAny = true;
        console.error(`FAILED: ${what}`);
      }
    },
    failed: () => failedAny,
  };
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The PATH a run of the CLI gets: this repository's launchers, then the Node.js running the benchmark. */
export const CLI_PATH = `${join(root, 'bin')}:${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`;

/** The environment a run of the built CLI gets, home its HOME and ECR answered at ecrUrl (the stand-in); extra last. */
export function cliEnv(home, ecrUrl, extra = {}) {
  return {
    PATH: CLI_PATH,
    HOME: home,
    LANG: 'C.UTF-8',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_ENDPOINT_URL_ECR: ecrUrl,
    ...extra,
  };
}

/** The three variables of an ECR registry { prefix, host, key }: its host, and the key pair as user and password. */
export function ecrTriple(r) {
  return {
    [`${r.prefix}_CONTAINER_REGISTRY_SERVER`]: r.host,
    [`${r.prefix}_CONTAINER_REGISTRY_USER`]: r.key.accessKeyId,
    [`${r.prefix}_CONTAINER_REGISTRY_PASSWORD`]: r.key.secretAccessKey,
  };
}

/** The environment of the usual way for one key pair: the system's aws and docker, docker's config under home. */
export function usualWayEnv(home, key) {
  return {
    PATH: '/usr/bin:/bin',
    HOME: home,
    DOCKER_CONFIG: join(home, '.docker'),
    AWS_ACCESS_KEY_ID: key.accessKeyId,
    AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
}

/** The shell pipe a user would type to log docker in to 127.0.0.1:port; the token never leaves the pipe. */
export function usualWayCommand(aws, docker, region, endpoint, port) {
  const login = `"${docker}" login 127.0.0.1:${port} --username AWS --password-stdin`;
  return `"${aws}" ecr get-login-password --region ${region} --endpoint-url ${endpoint} | ${login}`;
}

/**
 * docker login checks the password at the registry: count loopback registries (one server a port) that accept
 * AWS:<token> for a token the stand-in handed out. Resolves with their ports and a close().
 */
export async function startLoopbackRegistries(count, standIn) {
  const handler = (req, res) => {
    const [user, ...rest] = Buffer.from(String(req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
      .toString('utf8')
      .split(':');
    const ok = user === 'AWS' && standIn.calls.some((c) => c.password === rest.join(':'));
    res
      .writeHead(ok ? 200 : 401, {
        'docker-distribution-api-version': 'registry/2.0',
        ...(ok ? {} : { 'www-authenticate': 'Basic realm="bench"' }),
      })
      .end(ok ? '{}' : '');
  };
  const servers = [];
  for (let i = 0; i < count; i++) {
    const server = createServer(handler);
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
  }
  return {
    ports: servers.map((s) => s.address().port),
    close: () => {
      for (const s of servers) s.close();
    },
  };
}
