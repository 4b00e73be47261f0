// dist/registry-login.cjs, which both bin/ launchers (and the Feature's) run: it refuses a Node.js older than 22.12,
// then runs dist/agent.cjs from compiled code kept in the per-user cache directory; the agent picks the CLI or the
// credential helper by the name the process was run by (src/main.ts).
//
// The version check comes first and is written so that any Node.js can parse and run it: an old Node must get the
// message, not a SyntaxError or a missing API further down. scripts/build.mjs builds this file for old syntax.
//
// Compiled code. V8 compiles a function only when it is first called, and that compiling, of the bundle and then of
// each function a run calls, is most of what a cached run costs beyond Node's own start-up. Node's compile cache
// (module.enableCompileCache) saves a file's code right after compiling it, before any of it has run, so it holds
// the top level only and every run compiled each function it called again (measured: 2-3 ms of a cached 20-registry
// refresh, a third of the agent's cost). So the agent, which every run executes, is compiled here through vm.Script,
// and its V8 cache is made as the run exits, holding every function that run compiled: one file per program name and
// first argument (refresh, helper get, status...), written when it is missing or V8 refused it (another Node.js,
// other V8 flags), by a run that needed no other file of dist/, and never otherwise. Each file begins with a stamp
// of the agent file (inode, size, modification and change times; Node's version): an agent file that changed in any
// way is compiled afresh, since V8 itself checks only the source's length. The SDK files that only a login from AWS
// keys loads go through Node's compile cache in node-compile-cache beside them. Both live in <cache dir>, the
// per-user directory that also holds ECR tokens, and only when it is this user's and no one else can write it; a
// cache that cannot be read or written only costs the compile time. REGISTRY_LOGIN_CODE_CACHE=0 turns both off.
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

type Fs = typeof import('node:fs');

function start(): void {
  // Everything registry-login creates is private, and a umask that takes away the owner's own bits (0222, 0777) would
  // leave the cache files unreadable: its files and folders get 0600 and 0700 this way. The agent gives its own files
  // explicit modes anyway.
  process.umask(0o077);
  const fs = process.getBuiltinModule('node:fs');
  const { join } = process.getBuiltinModule('node:path');
  const dir = privateCacheDir(fs);
  if (dir !== undefined) {
    const nodeCache = join(dir, 'node-compile-cache');
    if (!fs.existsSync(nodeCache)) removeOldCodeCaches(fs, dir);
    process.getBuiltinModule('node:module').enableCompileCache(nodeCache);
  }
  runAgent(fs, join(__dirname, 'agent.cjs'), dir);
}

/** The per-user cache directory when this user owns it and no one else can write it, else undefined. */
function privateCacheDir(fs: Fs): string | undefined {
  if (process.env.REGISTRY_LOGIN_CODE_CACHE === '0') return undefined;
  // Required here, not imported: an import would run before the version check above.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { cacheDir } = require('./paths.js') as typeof import('./paths.js');
  // cacheDir has made the directory (0700 where it made it), or says undefined.
  const dir = cacheDir(process.env);
  if (dir === undefined) return undefined;
  try {
    const info = fs.statSync(dir);
    return (!process.getuid || info.uid === process.getuid()) && (info.mode & 0o022) === 0 ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** Runs the agent file as Node runs a CommonJS module, from the cached code in dir when it still matches. */
function runAgent(fs: Fs, file: string, dir: string | undefined): void {
  const { basename, dirname, join } = process.getBuiltinModule('node:path');
  const source = fs.readFileSync(file, 'utf8');
  let cacheFile: string | undefined;
  let stamp = '';
  let cachedData: Buffer | undefined;
  if (dir !== undefined) {
    try {
      const info = fs.statSync(file);
      stamp = `registry-login code cache 1 ${process.version} ${info.ino} ${info.size} ${info.mtimeMs} ${info.ctimeMs}\n`;
      const run = `${basename(process.argv[1] ?? '')} ${process.argv[2] ?? ''}`;
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- after the version check, as paths.js
      const { fingerprint64 } = require('./fingerprint.js') as typeof import('./fingerprint.js');
      cacheFile = join(dir, `code-${fingerprint64(`${process.version}\0${process.arch}\0${file}\0${run}`)}.bin`);
      const bytes = fs.readFileSync(cacheFile);
      if (bytes.toString('latin1', 0, stamp.length) === stamp) cachedData = bytes.subarray(stamp.length);
    } catch {
      // No cache file yet, or none to be had: compile.
    }
  }
  const script = new (process.getBuiltinModule('node:vm').Script)(
    `(function (exports, require, module, __filename, __dirname) {${source}\n})`,
    { filename: file, cachedData },
  );
  const module = { exports: {} };
  const agent = script.runInThisContext() as (...args: unknown[]) => void;
  const agentRequire = process.getBuiltinModule('node:module').createRequire(file);
  if (cacheFile !== undefined && (cachedData === undefined || script.cachedDataRejected === true)) {
    const target = cacheFile;
    process.once('exit', () => {
      // A run that loaded another file of dist/ (the AWS SDK for a token from AWS, the JSON editor for a changed
      // config) compiled code for that path rather than for the runs that repeat, which change nothing: the next run
      // that needs no other file writes the cache instead.
      if (!Object.keys(agentRequire.cache).some((name) => dirname(name) === __dirname && name !== __filename))
        saveCode(fs, target, stamp, script);
    });
  }
  agent(module.exports, agentRequire, module, file, dirname(file));
}

/** Writes the code V8 has compiled so far, stamped, as the process exits (atomically: runs may exit together). */
function saveCode(fs: Fs, file: string, stamp: string, script: import('node:vm').Script): void {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(temporary, Buffer.concat([Buffer.from(stamp, 'latin1'), script.createCachedData()]), {
      mode: 0o600,
      flag: 'wx',
    });
    fs.renameSync(temporary, file);
  } catch {
    // Nothing here may throw: an exception in an 'exit' listener would replace the run's exit code.
    try {
      fs.rmSync(temporary, { force: true });
    } catch {
      // A temporary file left in the private cache directory only takes space.
    }
  }
}

/**
 * Builds for Node 20 kept their own V8 code cache here as v8-*.bin files, which nothing reads any more. Looked for only
 * while Node's compile cache has no folder yet (its first run), so other runs pay nothing for it.
 */
function removeOldCodeCaches(fs: Fs, dir: string): void {
  const { join } = process.getBuiltinModule('node:path');
  for (const name of fs.readdirSync(dir))
    if (name.startsWith('v8-') && name.endsWith('.bin')) fs.rmSync(join(dir, name), { force: true });
}
