// No command, in any mode or failure path, prints a secret — raw or base64 — except the helper's get answer to docker.
import { mkdir, writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { makeAgentHome, runAgent, runHelper, triple, type AgentResult } from '../support/agent.js';
import { TempDirs } from '../support/tmp.js';

const tmp = new TempDirs();
afterEach(() => tmp.cleanup());

const SENTINELS = ['S3ntinel-Pa55word-7f1c', 'S3ntinel-Sess10nT0ken-9a2b', 'S3ntinel-Ecr-Secret-Key-4d8e', 'S3ntinel-Stored-By-Docker-Login'];

function forms(secret: string): string[] {
  return [secret, Buffer.from(secret).toString('base64').replace(/=+$/, ''), Buffer.from(`AWS:${secret}`).toString('base64').replace(/=+$/, ''), Buffer.from(`u:${secret}`).toString('base64').replace(/=+$/, '')];
}

function expectNoSecret(label: string, result: AgentResult, streams: ('stdout' | 'stderr')[] = ['stdout', 'stderr']): void {
  for (const stream of streams) for (const secret of SENTINELS) for (const form of forms(secret)) expect(result[stream].includes(form), `${label} ${stream} holds a secret`).toBe(false);
}

describe('secrets never printed', () => {
  it('holds across every command, mode and failure path', async () => {
    const [password, sessionToken, ecrSecret, stored] = SENTINELS as [string, string, string, string];
    const env = {
      ...triple('GOOD', 'registry.example.com', 'u', password),
      ...triple('ECR', '123456789012.dkr.ecr.us-east-1.amazonaws.com', 'AKIAEXAMPLEKEY', ecrSecret),
      ECR_CONTAINER_REGISTRY_SESSION_TOKEN: sessionToken,
      ...triple('USERINFO', `https://u:${password}@registry.example.com`, 'u', password),
      HALF_CONTAINER_REGISTRY_SERVER: 'half.example.com',
      HALF_CONTAINER_REGISTRY_PASSWORD: password,
      AWS_ENDPOINT_URL_ECR: 'http://127.0.0.1:9',
    };
    const h = await makeAgentHome(await tmp.make('rl-leak-'), env);
    const runs: [string, AgentResult][] = [];
    for (const args of [['refresh'], ['refresh', '--json'], ['refresh', '--hook'], ['refresh', '--force'], ['status'], ['status', '--json'], ['--help'], ['refresh', '--bogus'], ['nonsense']]) {
      runs.push([args.join(' '), await runAgent(args, h.env)]);
    }
    runs.push(['helper store', await runHelper('store', JSON.stringify({ ServerURL: 'typed.example.com', Username: 'me', Secret: stored }), h.env)]);
    runs.push(['helper store (garbage)', await runHelper('store', `not json ${stored}`, h.env)]);
    runs.push(['helper list', await runHelper('list', '', h.env)]);
    runs.push(['helper erase', await runHelper('erase', 'typed.example.com', h.env)]);
    runs.push(['helper bogus', await runHelper('bogus', '', h.env)]);
    // A config that cannot be read: every command refuses, naming the file, with no secret.
    await mkdir(h.dockerConfigDir, { recursive: true });
    await writeFile(h.configPath, `{"auths": {"x": {"auth": "${Buffer.from(`u:${password}`).toString('base64')}"}}`);
    for (const args of [['refresh'], ['refresh', '--json'], ['status'], ['logout']]) runs.push([`${args.join(' ')} (broken config)`, await runAgent(args, h.env)]);
    runs.push(['helper get (broken config)', await runHelper('get', 'x', h.env)]);
    runs.push(['logout', await runAgent(['logout'], { ...h.env, DOCKER_CONFIG: `${h.home}/fresh` })]);

    for (const [label, result] of runs) expectNoSecret(label, result);
    // The failures above did say something useful.
    const refresh = runs.find(([l]) => l === 'refresh')![1];
    expect(refresh.exitCode).toBe(1);
    expect(refresh.stderr).toMatch(/USERINFO: USERINFO_CONTAINER_REGISTRY_SERVER contains user information/);
    expect(refresh.stderr).toMatch(/HALF: HALF_CONTAINER_REGISTRY_USER is missing or empty/);
    expect(runs.find(([l]) => l === 'refresh --hook')![1].exitCode).toBe(0);
    expect(runs.find(([l]) => l === 'refresh (broken config)')![1]).toMatchObject({ exitCode: 2 });
  });

  it('lets the helper give docker the secret on stdout only', async () => {
    const h = await makeAgentHome(await tmp.make('rl-leak-get-'), triple('GOOD', 'registry.example.com', 'u', SENTINELS[0]!));
    expect((await runAgent(['refresh'], h.env)).exitCode).toBe(0);
    const get = await runHelper('get', 'registry.example.com', h.env);
    expect(get.stdout).toContain(SENTINELS[0]);
    expectNoSecret('helper get', get, ['stderr']);
  });
});
