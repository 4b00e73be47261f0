// Bundles the agent into dist/ as CommonJS (Node's fastest loader). The AWS SDK lives in separate
// files that only an ECR login loads, so every other command starts near Node's floor.
import { build } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';
import { resolve } from 'node:path';

// Modules reached through `await import()` that must stay out of the main file: name → source.
const LAZY = { 'ecr-swap': 'src/ecr/swap.ts' };

const lazyFiles = new Map(Object.entries(LAZY).map(([name, file]) => [resolve(file), name]));
const keepLazyApart = {
  name: 'keep-lazy-apart',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind !== 'dynamic-import' || !args.path.startsWith('.')) return undefined;
      const target = resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
      const name = lazyFiles.get(target);
      return name ? { path: `./${name}.cjs`, external: true } : undefined;
    });
  },
};

const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
await rm(new URL('../dist', import.meta.url), { recursive: true, force: true });
const existing = Object.fromEntries(
  await Promise.all(Object.entries(LAZY).map(async ([name, file]) => [name, await readFile(file).then(() => file, () => undefined)])),
);
await build({
  entryPoints: { 'registry-login': 'src/main.ts', ...Object.fromEntries(Object.entries(existing).filter(([, file]) => file)) },
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // Prefer ESM builds: they tree-shake (jsonc-parser's UMD main cannot be bundled at all).
  mainFields: ['module', 'main'],
  // graceful-fs (via proper-lockfile) patches fs at start-up, costing ~8 ms; plain fs serves the lock as well.
  // signal-exit 3 loads `assert` (~2 ms); its successor serves proper-lockfile the same way.
  alias: { 'graceful-fs': 'node:fs', 'signal-exit': './scripts/shims/signal-exit-v3.cjs' },
  minify: process.env.RL_NO_MINIFY !== "1",
  legalComments: 'linked',
  define: { __REGISTRY_LOGIN_VERSION__: JSON.stringify(version) },
  plugins: [keepLazyApart],
  logLevel: 'warning',
});
