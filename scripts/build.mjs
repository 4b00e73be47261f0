// Bundles the agent into dist/ as ESM with code splitting, so the AWS SDK sits in chunks
// that only an ECR login loads (await import), and other commands start near Node's floor.
import { build } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';

await rm(new URL('../dist', import.meta.url), { recursive: true, force: true });
const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
await build({
  define: { __REGISTRY_LOGIN_VERSION__: JSON.stringify(version) },
  entryPoints: { 'registry-login': 'src/main.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  // Prefer ESM builds: jsonc-parser's UMD main cannot be bundled.
  mainFields: ['module', 'main'],
  target: 'node20',
  minify: true,
  legalComments: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  // CommonJS dependencies call require() for Node built-ins; give the ESM bundle one.
  banner: { js: "import { createRequire as __rlCreateRequire } from 'node:module'; const require = __rlCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
