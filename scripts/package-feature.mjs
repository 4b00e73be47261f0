// Builds the agent, stages the Dev Container Feature (devcontainer-feature.json, install.sh, hooks,
// NOTES.md, the built agent and the agent/bin/ files its launchers run) and packs it with
// `devcontainer features package`.
//
//   node scripts/package-feature.mjs [--stage DIR] [--out DIR] [--skip-build] [--stage-only]
//
// Defaults: stage in build/feature/registry-login, archive into build/feature-archive.
import { spawnSync } from 'node:child_process';
import { chmod, cp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    stage: { type: 'string', default: path.join(root, 'build', 'feature', 'registry-login') },
    out: { type: 'string', default: path.join(root, 'build', 'feature-archive') },
    'skip-build': { type: 'boolean', default: false },
    'stage-only': { type: 'boolean', default: false },
  },
});

function run(command, argv) {
  const result = spawnSync(command, argv, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(
      `package-feature: '${command} ${argv.join(' ')}' failed (${result.error?.message ?? `exit ${result.status}`})`,
    );
    process.exit(1);
  }
}

if (!args['skip-build']) run('npm', ['run', '--silent', 'build']);

const dist = path.join(root, 'dist');
if (!(await stat(path.join(dist, 'registry-login.cjs')).catch(() => null))) {
  console.error('package-feature: dist/registry-login.cjs is missing; run npm run build first');
  process.exit(1);
}

// The repository-root devcontainer-feature.json is the one source of the Feature's metadata; its
// version must be the agent's, so that the archive's version says which agent it carries.
const metadata = JSON.parse(await readFile(path.join(root, 'devcontainer-feature.json'), 'utf8'));
const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
if (metadata.version !== pkg.version) {
  console.error(
    `package-feature: devcontainer-feature.json version ${metadata.version} differs from package.json version ${pkg.version}`,
  );
  process.exit(1);
}

const stage = path.resolve(args.stage);
await rm(stage, { recursive: true, force: true });
await mkdir(stage, { recursive: true });
await writeFile(path.join(stage, 'devcontainer-feature.json'), `${JSON.stringify(metadata, null, 2)}\n`);
await cp(path.join(root, 'install.sh'), path.join(stage, 'install.sh'));
await cp(path.join(root, 'feature', 'NOTES.md'), path.join(stage, 'NOTES.md'));
await cp(path.join(root, 'feature', 'hooks'), path.join(stage, 'hooks'), { recursive: true });
await cp(dist, path.join(stage, 'agent'), { recursive: true });
// The files node runs: the agent takes its mode from their names (install.sh's launchers run them).
await cp(path.join(root, 'feature', 'bin'), path.join(stage, 'agent', 'bin'), { recursive: true });
await chmod(path.join(stage, 'install.sh'), 0o755);
console.log(`package-feature: staged the Feature in ${path.relative(process.cwd(), stage) || '.'}`);

if (!args['stage-only']) {
  const out = path.resolve(args.out);
  await rm(out, { recursive: true, force: true });
  run('npx', [
    '--no-install',
    'devcontainer',
    'features',
    'package',
    stage,
    '--output-folder',
    out,
    '--log-level',
    'info',
  ]);
  console.log(
    `package-feature: wrote ${path.relative(process.cwd(), path.join(out, 'devcontainer-feature-registry-login.tgz'))}`,
  );
}
