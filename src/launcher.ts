// dist/registry-login.cjs, which both bin/ launchers (and the Feature's) run: it refuses a Node.js older than 22.12,
// turns on Node's compile cache and requires dist/agent.cjs, which picks the CLI or the credential helper by the name
// the process was run by (src/main.ts).
//
// The version check comes first and is written so that any Node.js can parse and run it: an old Node must get the
// message, not a SyntaxError or a missing API further down. scripts/build.mjs builds this file for old syntax.
//
// module.enableCompileCache() keeps V8's compiled code of the agent in <cache dir>/node-compile-cache, in the per-user
// cache directory that also holds ECR tokens: compiling the bundle, and then each function a run calls, is a third of
// what a cached run costs beyond Node's own start-up. Node checks each entry against the source's hash, so a new build
// never runs stale code. A directory another user could write is not used; a cache that cannot be read or written only
// costs the compile time. REGISTRY_LOGIN_CODE_CACHE=0 turns it off.
const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(
    'registry-login needs Node.js 22.12 or later (this is ' +
      process.version +
      '); install Node.js 22 or 24 LTS, or use the Dev Container Feature, which brings its own\n',
  );
  process.exit(2);
}
start();

function start(): void {
  // Everything registry-login creates is private, and a umask that takes away the owner's own bits (0222, 0777) would
  // leave what Node's compile cache writes unreadable: its files and folders get 0600 and 0700 this way. The agent
  // gives its own files explicit modes anyway.
  process.umask(0o077);
  const fs = process.getBuiltinModule('node:fs');
  const { join } = process.getBuiltinModule('node:path');
  // Required here, not imported: an import would run before the version check above.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { cacheDir } = require('./paths.js') as typeof import('./paths.js');
  const dir = process.env.REGISTRY_LOGIN_CODE_CACHE === '0' ? undefined : cacheDir(process.env);
  if (dir !== undefined) {
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const info = fs.statSync(dir);
      if ((!process.getuid || info.uid === process.getuid()) && (info.mode & 0o022) === 0) {
        const cache = join(dir, 'node-compile-cache');
        if (!fs.existsSync(cache)) removeOldCodeCaches(fs, dir);
        process.getBuiltinModule('node:module').enableCompileCache(cache);
      }
    } catch {
      // No cache only costs the compile time.
    }
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- Node caches what require compiles
  require(join(__dirname, 'agent.cjs'));
}

/**
 * Builds for Node 20 kept their own V8 code cache here as v8-*.bin files, which nothing reads any more. Looked for only
 * while Node's compile cache has no folder yet (its first run), so other runs pay nothing for it.
 */
function removeOldCodeCaches(fs: typeof import('node:fs'), dir: string): void {
  const { join } = process.getBuiltinModule('node:path');
  for (const name of fs.readdirSync(dir))
    if (name.startsWith('v8-') && name.endsWith('.bin')) fs.rmSync(join(dir, name), { force: true });
}
