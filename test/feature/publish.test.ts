// The Feature as users get it: published with the real `devcontainer features publish` from the staged
// folder (as the release workflow does) to local docker-registry servers, then consumed by its OCI
// reference through `devcontainer up` with a private dockerd, on an open registry and on a
// password-protected one that initializeCommand logs the host in to. The published installsAfter names
// Features on ghcr.io: stand-ins are served under that very name inside a private network namespace
// (publish.scenario.ts, which runs there and reports back).
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../support/agent.js';
import { whyDockerdCannotRun } from '../support/feature-dockerd.js';
import { cachedRootfs, whyRootTierCannotRun } from '../support/feature-rootfs.js';
import { stageFeature } from '../support/feature-stage.js';
import { runInPrivateNetwork, whyPrivateNetworkCannotRun } from '../support/private-network.js';
import { requireCommand } from '../support/process.js';
import { makeTempDir, removeTempDir } from '../support/tmp.js';
import type { PublishReport, WorkspaceReport } from './publish.scenario.js';

let work: string | undefined;
let staged: string | undefined;
let report: PublishReport;
let version: string;

beforeAll(async () => {
  const why = whyRootTierCannotRun() ?? whyDockerdCannotRun() ?? (await whyPrivateNetworkCannotRun());
  if (why) throw new Error(`the published-Feature test cannot run: ${why}`);
  await Promise.all([
    requireCommand('docker-registry', 'docker-registry'),
    requireCommand('skopeo', 'skopeo'),
    requireCommand('openssl', 'openssl'),
  ]);
  ({ version } = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as { version: string });
  // Outside the namespace: debootstrap needs the apt mirror, which the namespace cannot reach.
  await cachedRootfs();
  staged = await stageFeature();
  work = await makeTempDir('rl-publish-');
  const result = await runInPrivateNetwork({
    dir: work,
    names: ['ghcr.io'],
    command: process.execPath,
    args: [
      path.join(REPO, 'scripts', 'run-ts.mjs'),
      'test/feature/publish.scenario.ts',
      work,
      path.dirname(staged),
      version,
    ],
    cwd: REPO,
    env: {
      PATH: `${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin`,
      HOME: work,
      LANG: 'C.UTF-8',
      PUBTEST_ROBOT_PASSWORD: `pw-${randomBytes(12).toString('hex')}`,
    },
    timeoutMs: 1_200_000,
  });
  if (result.exitCode !== 0)
    throw new Error(
      `the namespaced publish scenario failed (exit ${String(result.exitCode)}):\n${result.all.slice(-6000)}`,
    );
  report = JSON.parse(result.stdout.trim().split('\n').pop()!) as PublishReport;
}, 1_300_000);

afterAll(async () => {
  if (work) await removeTempDir(work);
  if (staged) await rm(path.dirname(staged), { recursive: true, force: true });
});

const expectLoggedInInside = (workspace: WorkspaceReport) => {
  const summary = `devcontainer up (exit ${String(workspace.up.exitCode)}):\n${workspace.up.tail}\n\ninside:\n${workspace.inside?.tail ?? '(not run)'}`;
  expect(workspace.up.exitCode, summary).toBe(0);
  // The Feature's own hook logged the remote user in when the container was created.
  expect(workspace.up.tail, summary).toMatch(/Running the postCreateCommand from Feature '[^']*registry-login[^']*'/);
  expect(workspace.inside?.exitCode, summary).toBe(0);
  expect(workspace.inside?.tail, summary).toContain('user=vscode');
  // The published Feature installed the agent of this very version.
  expect(workspace.inside?.tail, summary).toContain(`version=registry-login ${version}`);
  // The docker CLI inside pulled the private image with that login (through the daemon's socket).
  expect(workspace.pulledDigests, summary).toEqual([report.expectedDigest]);
};

describe('the Feature published with devcontainer features publish', () => {
  it('publishes the stand-ins and the staged Feature to an open and a password-protected registry', () => {
    for (const [name, run] of Object.entries(report.publish))
      expect(run.exitCode, `publish ${name}:\n${run.tail}`).toBe(0);
  });

  it('tags the major, minor, exact version and latest, as the official Features are tagged', () => {
    const [major, minor] = version.split('.');
    const expected = [`${major}`, `${major}.${minor}`, version, 'latest'].sort();
    expect([...report.tags.open].sort()).toEqual(expected);
    expect([...report.tags.private].sort()).toEqual(expected);
  });

  it('is installed by its major-version OCI reference through devcontainer up, and the login works inside', () => {
    expect(report.featureRefs.open).toMatch(/^localhost:\d+\/acme\/registry-login\/registry-login:\d+$/);
    expectLoggedInInside(report.open);
  });

  it('had its installsAfter Features looked up on ghcr.io (the stand-ins) and not installed', () => {
    const summary = `stand-in requests: ${JSON.stringify(report.standInRequests)}\n${report.open.up.tail}`;
    for (const id of ['common-utils', 'node']) {
      expect(
        report.standInRequests.some((request) => request.includes(`/v2/devcontainers/features/${id}/manifests/`)),
        summary,
      ).toBe(true);
    }
    expect(report.open.up.tail, summary).not.toMatch(/must never be installed/);
  });

  it('cannot be fetched from the password-protected registry while the host is not logged in', () => {
    const { up } = report.privateWithoutLogin;
    expect(up.exitCode, up.tail).not.toBe(0);
    expect(up.tail, up.tail).toMatch(/No basic auth credentials to send for registry service 'localhost:\d+'/);
    expect(up.steps[0], up.tail).toBe(`Resolving Feature dependencies for '${report.featureRefs.private}'...`);
    expect(up.steps[1], up.tail).toMatch(
      /^Could not resolve Feature manifest for .* provide registry credentials with 'docker login <registry>'/,
    );
    expect(up.steps.join('\n'), up.tail).not.toMatch(/Running the postCreateCommand/);
  });

  it('is fetched from the password-protected registry after initializeCommand logged the host in', () => {
    expect(report.featureRefs.private).toMatch(
      new RegExp(`^localhost:\\d+/acme/registry-login/registry-login:${version.replaceAll('.', '\\.')}$`),
    );
    expectLoggedInInside(report.privateWithLogin);
    // The CLI 0.89 runs initializeCommand first, then fetches the Features (with the login it just made).
    const { steps, tail } = report.privateWithLogin.up;
    const first = (pattern: RegExp) => steps.findIndex((step) => pattern.test(step));
    const order = [
      /^Running the initializeCommand/,
      /^Resolving Feature dependencies/,
      /^Running the postCreateCommand from Feature/,
    ].map(first);
    expect(order, `${JSON.stringify(steps, null, 2)}\n${tail}`).toEqual([...order].sort((a, b) => a - b));
    expect(order, JSON.stringify(steps, null, 2)).not.toContain(-1);
  });

  it('prints no secret', () => {
    expect(report.leaks).toEqual([]);
  });
});
