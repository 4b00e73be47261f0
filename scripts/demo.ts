// The main job, end to end on one machine: a private registry with a password, a Codespaces-style
// secret triple, `registry-login refresh`, `status`, and a real client (skopeo) pulling with the login.
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeAgentHome, runAgent, triple } from '../test/support/agent.js';
import { pushTestImage } from '../test/support/oci-image.js';
import { startRegistry } from '../test/support/registry.js';
import { hermeticSkopeoEnv } from '../test/support/skopeo.js';

const dir = await mkdtemp(path.join(tmpdir(), 'registry-login-demo-'));
const password = `demo-${Math.random().toString(36).slice(2)}`;
const registry = await startRegistry({ auth: { kind: 'htpasswd', users: [{ user: 'demo', password }] } });
let failed = false;
try {
  console.log(`1. A private registry is listening on ${registry.host} (htpasswd, user "demo").`);
  await pushTestImage(registry.host, 'demo/hello', 'v1', { creds: { user: 'demo', password } });
  console.log(`   It holds the image ${registry.host}/demo/hello:v1.`);
  const h = await makeAgentHome(dir, triple('DEMO', registry.host, 'demo', password));
  console.log(
    '2. The secrets DEMO_CONTAINER_REGISTRY_SERVER, _USER and _PASSWORD are set, as Codespaces would set them.',
  );
  console.log('3. $ registry-login refresh');
  const refresh = await runAgent(['refresh'], h.env);
  process.stdout.write(indent(refresh.stdout + refresh.stderr));
  console.log('4. $ registry-login status');
  const status = await runAgent(['status'], h.env);
  process.stdout.write(indent(status.stdout + status.stderr));
  console.log(`5. $ skopeo copy docker://${registry.host}/demo/hello:v1 dir:…   (with nothing but ${h.configPath})`);
  const skopeoEnv = await hermeticSkopeoEnv(path.join(dir, 'skopeo'), h.dockerConfigDir, { PATH: h.env.PATH });
  const pull = await execa(
    'skopeo',
    ['copy', '--src-tls-verify=false', `docker://${registry.host}/demo/hello:v1`, `dir:${path.join(dir, 'pulled')}`],
    { env: skopeoEnv, extendEnv: false, reject: false },
  );
  process.stdout.write(indent(pull.stdout + pull.stderr));
  failed = refresh.exitCode !== 0 || pull.exitCode !== 0;
  console.log(
    failed
      ? '\nThe demo FAILED: see the output above.'
      : '\nPulled with the login registry-login wrote. That is the whole job.',
  );
} finally {
  await registry.stop();
  await rm(dir, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;

function indent(text: string): string {
  return text.trim() === '' ? '' : `${text.trimEnd().replace(/^/gm, '   ')}\n`;
}
