// dist/registry-login.cjs, which both launchers run: a small private module loader that starts the agent from V8's
// code cache. This comment is the one place that explains it.
//
// Why: compiling the agent bundle, and then each function it calls, is a third of what a cached run costs beyond
// Node's own start-up. On Node 22.1 and later, module.enableCompileCache() does this job, so there this file only
// turns it on (in <cache dir>/node-compile-cache) and requires dist/agent.cjs; test/e2e/launcher-node22.test.ts runs
// that branch under an official Node 22. Node 20 has no compile cache for CommonJS, so there this file does the job:
// it compiles the agent with vm.Script, giving V8 the cached data from the last run, and at exit saves V8's cache
// when there was none or V8 refused it, so the file holds every function that run compiled. Measured for issue 11 with
// bench/ab.mjs (REGISTRY_LOGIN_CODE_CACHE=0 against the default): see docs/architecture.md. scripts/build.mjs writes
// the agent as one function expression with CommonJS's parameters (dist/agent-function.js), so no source is copied or
// wrapped here at every start.
//
// The cache is one file per user, agent file, Node.js (and its flags) and mode (CLI or credential helper), in the
// per-user cache directory that also holds ECR tokens. V8 checks its own version and flags but only the source's
// length, so the file name also carries the agent file's size, times and inode: a changed agent never runs stale
// code. A file another user could have written is ignored; a cache that cannot be read or written only costs the
// compile time. REGISTRY_LOGIN_CODE_CACHE=0 turns all of this off.
import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { fingerprint64 } from './fingerprint.js';
import { cacheDir } from './paths.js';

// The bundle as one function expression with CommonJS's parameters (scripts/build.mjs writes it so).
const agent = join(__dirname, 'agent-function.js');
const mode = process.env.REGISTRY_LOGIN_MODE === 'credential-helper' ? 'helper' : 'cli';

/**
 * The cache file's name. Its family (agent path, Node's flags, mode) keeps one file: a new build of the agent or of
 * Node replaces it. Node's flags (NODE_OPTIONS, e.g. --max-old-space-size) are part of what V8 checks, so runs with
 * and without them keep a file each rather than replacing each other's.
 */
function cacheName(info: Stats): { name: string; family: string } {
  const family = `v8-${fingerprint64(`${agent}\0${process.execArgv.join(' ')}\0${process.env.NODE_OPTIONS ?? ''}`)}`;
  const build = fingerprint64(
    `${info.size}\0${info.mtimeMs}\0${info.ctimeMs}\0${info.ino}\0${process.version}\0${process.arch}`,
  );
  return { name: `${family}-${build}-${mode}.bin`, family };
}

/** Reads size bytes (or up to end of file) from an open file. */
function readAll(fd: number, size: number): Buffer {
  const buffer = Buffer.allocUnsafe(size);
  let length = 0;
  while (length < size) {
    const n = readSync(fd, buffer, length, size - length, length);
    if (n === 0) break;
    length += n;
  }
  return buffer.subarray(0, length);
}

/** The cached code, when it is there and was written by this user (not group- or world-writable). */
function readCache(path: string): Buffer | undefined {
  let fd;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    const info = fstatSync(fd);
    if (!info.isFile() || (process.getuid && info.uid !== process.getuid()) || (info.mode & 0o022) !== 0)
      return undefined;
    return readAll(fd, info.size);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Saves the code cache atomically (0600 in a 0700 directory) and removes the older ones of its family. */
function writeCache(dir: string, name: string, family: string, data: Buffer): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const temp = join(dir, `.${name}.${process.pid}.tmp`);
    writeFileSync(temp, data, { mode: 0o600, flag: 'wx' });
    renameSync(temp, join(dir, name));
    for (const other of readdirSync(dir)) {
      if (other !== name && other.startsWith(`${family}-`) && other.endsWith(`-${mode}.bin`))
        unlinkSync(join(dir, other));
    }
  } catch {
    // A cache that cannot be written (read-only home, full disk) only costs the next run its compile time.
  }
}

/**
 * Node 22.1 and later: Node's own compile cache, in a directory of ours that no other user can write, then the agent.
 */
function startWithNodeCache(dir: string | undefined): void {
  if (dir !== undefined) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const info = statSync(dir);
      if ((!process.getuid || info.uid === process.getuid()) && (info.mode & 0o022) === 0) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only on this branch (~0.3 ms)
        (require('node:module') as { enableCompileCache(dir: string): unknown }).enableCompileCache(
          join(dir, 'node-compile-cache'),
        );
      }
    } catch {
      // As with the private cache: no cache only costs the compile time.
    }
  }
  // Node caches what require compiles.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the launcher is CommonJS
  require(join(__dirname, 'agent.cjs'));
}

function start(): void {
  const dir = process.env.REGISTRY_LOGIN_CODE_CACHE === '0' ? undefined : cacheDir(process.env);
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  if (major > 22 || (major === 22 && minor >= 1)) return startWithNodeCache(dir);
  // One open file for the name (its size, times, inode) and the source, so the two cannot disagree.
  const fd = openSync(agent, 'r');
  let source;
  let info;
  try {
    info = fstatSync(fd);
    source = readAll(fd, info.size).toString('utf8');
  } finally {
    closeSync(fd);
  }
  const { name, family } = cacheName(info);
  const cachedData = dir === undefined ? undefined : readCache(join(dir, name));
  const script = new Script(source, { filename: agent, ...(cachedData ? { cachedData } : {}) });
  if (dir !== undefined && (!cachedData || script.cachedDataRejected))
    process.once('exit', () => writeCache(dir, name, family, script.createCachedData()));
  const module = { exports: {} };
  // The agent sits beside this file, so this file's require resolves its lazily loaded parts (./ecr-swap.cjs) alike.
  (script.runInThisContext() as (...args: unknown[]) => void).call(
    module.exports,
    module.exports,
    require,
    module,
    agent,
    dirname(agent),
  );
}

start();
