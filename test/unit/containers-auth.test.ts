import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { credentialHelpers, otherClientsNotSeeing, type ContainersPlaces } from '../../src/containers-auth.js';
import { REPO } from '../support/agent.js';

const places: ContainersPlaces = {
  authFiles: { podman: ['/run/a.json', '/home/u/.config/containers/auth.json'], buildah: [], skopeo: ['/run/a.json'] },
  registriesConf: { podman: ['/etc/r.conf'], buildah: [], skopeo: [] },
};
const auth = (s: string) => Buffer.from(s).toString('base64');
const verdicts = (files: Record<string, string>, helper?: string, helperOnPath = true) =>
  otherClientsNotSeeing('reg.example:5000', { places, files: new Map(Object.entries(files)), helper, helperOnPath });

describe('which other clients would not use a login', () => {
  it("an auths entry (or a namespaced one) in an earlier auth file shadows it; docker's empty marker does not", () => {
    expect(
      verdicts({ '/run/a.json': JSON.stringify({ auths: { 'reg.example:5000': { auth: auth('u:p') } } }) }),
    ).toEqual([
      expect.objectContaining({ client: 'podman', file: '/run/a.json' }),
      expect.objectContaining({ client: 'skopeo', file: '/run/a.json' }),
    ]);
    const ns = JSON.stringify({ auths: { 'reg.example:5000/team': { auth: auth('u:p') } } });
    expect(verdicts({ '/home/u/.config/containers/auth.json': ns }).map((n) => n.client)).toEqual(['podman']);
    expect(verdicts({ '/run/a.json': JSON.stringify({ auths: { 'reg.example:5000': {} } }) })).toEqual([]);
  });

  it('a credHelpers entry naming another helper shadows it, one naming registry-login does not', () => {
    const other = JSON.stringify({ credHelpers: { 'reg.example:5000': 'ecr-login' } });
    expect(verdicts({ '/run/a.json': other })[0]?.reason).toContain('docker-credential-ecr-login');
    expect(
      verdicts({ '/run/a.json': JSON.stringify({ credHelpers: { 'reg.example:5000': 'registry-login' } }) }),
    ).toEqual([]);
  });

  it('registries.conf credential-helpers without containers-auth.json, or another helper first', () => {
    expect(verdicts({ '/etc/r.conf': 'credential-helpers = ["pass"]\n' })[0]?.reason).toContain('never read');
    expect(
      verdicts({ '/etc/r.conf': 'credential-helpers = [\n  "pass", # first\n  "containers-auth.json",\n]\n' })[0]
        ?.reason,
    ).toContain('docker-credential-pass');
    expect(verdicts({ '/etc/r.conf': 'credential-helpers = ["containers-auth.json", "pass"]\n' })).toEqual([]);
    expect(credentialHelpers('[[registry]]\ncredential-helpers = ["x"]\n')).toBeUndefined();
  });

  it('the helper missing from PATH: every client but the docker CLI', () => {
    const clients = verdicts({}, 'registry-login', false).map((n) => n.client);
    expect(clients).toEqual(['podman', 'buildah', 'skopeo', 'docker-py', 'testcontainers']);
  });
});

describe("README's client table", () => {
  it('is what the committed client test results render', async () => {
    const run = await execa('node', ['scripts/client-table.mjs', 'check'], { cwd: REPO, reject: false });
    expect(run.exitCode, run.stderr).toBe(0);
  });
});
