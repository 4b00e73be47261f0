// A switch between the secrets modes: what config mode kept in persistent files (ledger, docker logins, ECR token
// cache) moves into the memory directory, or back out of it, before a command plans. Nothing of ours that holds or is
// derived from a secret stays behind in the mode left.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { memoryDir, MemoryDirError } from './fs/memory-dir.js';
import { followSymlinks } from './fs/resolve-path.js';
import { withFileLock } from './fs/lock.js';
import { writeFileAtomic } from './fs/atomic-write.js';
import { dictionary } from './dictionary.js';
import { ledgerPath, parseLedger, type Ledger, type LedgerEntry } from './docker-config/ledger.js';
import { readLedgerText } from './docker-config/locked-cycle.js';
import { moveDockerLogins } from './docker-config/docker-logins.js';
import type { Places } from './paths.js';

/** Moves the other mode's files of this config into the places of this run's mode (usually: nothing to do). */
export async function settleSecretsMode(places: Places, env: NodeJS.ProcessEnv): Promise<void> {
  let from: { stateDir: string; cacheDir: string | undefined } | undefined;
  if (places.memory) from = { stateDir: places.memory.persistentStateDir, cacheDir: places.memory.persistentCacheDir };
  else {
    let dir;
    try {
      dir = memoryDir(env, { create: false });
    } catch (error) {
      // Not ours to use, so nothing of ours is in it.
      if (error instanceof MemoryDirError) return;
      throw error;
    }
    if (dir === undefined) return;
    from = { stateDir: join(dir, 'state'), cacheDir: join(dir, 'cache') };
  }
  const target = followSymlinks(places.configPath);
  const oldLedger = ledgerPath(from.stateDir, target);
  if (existsSync(oldLedger)) await moveLedger(from.stateDir, places, target);
  await moveDockerLogins(from.stateDir, places.stateDir);
  // Token-cache files are only re-usable tokens: leaving memory they are simply dropped (the next swap makes new ones).
  if (from.cacheDir !== undefined) removeTokenCache(from.cacheDir);
}

async function moveLedger(fromDir: string, places: Places, target: string): Promise<void> {
  await withFileLock(target, async () => {
    const old = parseLedger(readLedgerText(fromDir, ledgerPath(fromDir, target)), target);
    const text = readLedgerText(places.stateDir, ledgerPath(places.stateDir, target));
    const here = parseLedger(text, target);
    const entries = dictionary(here.entries);
    for (const [key, entry] of Object.entries(old.entries)) {
      if (Object.hasOwn(entries, key)) continue;
      entries[key] = places.memory ? entry : leavingMemory(entry);
    }
    const merged: Ledger = {
      version: 1,
      configPath: here.configPath,
      entries,
      created: [...new Set([...here.created, ...old.created])],
    };
    writeFileAtomic(ledgerPath(places.stateDir, target), `${JSON.stringify(merged, null, 2)}\n`, undefined, { text });
    rmSync(ledgerPath(fromDir, target), { force: true });
  });
}

// A memory entry going to a persistent ledger keeps its mark (its credHelpers line is ours) but not its credentials.
function leavingMemory(entry: LedgerEntry): LedgerEntry {
  const { memory: _memory, ...rest } = entry;
  return rest;
}

function removeTokenCache(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) if (/^ecr-.*\.json$/.test(name)) rmSync(join(dir, name), { force: true });
}
