// What registry-login wrote into one docker config file, so it can update, remove and restore its entries.
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Kind } from '../types.js';

export const HELPER_NAME = 'registry-login';

/** One managed registry key. */
export interface LedgerEntry {
  prefix: string;
  kind: Kind;
  /** Hashes of the auths entries written for this key, newest first (the previous one survives a crash mid-write). */
  authHashes: string[];
  /** What stood at auths[key] / credHelpers[key] before registry-login first wrote there. */
  displaced?: { auths?: unknown; credHelpers?: unknown };
  issuedAt?: string;
  expiresAt?: string;
}

/** The ledger of one config file. */
export interface Ledger {
  version: 1;
  configPath: string;
  entries: Record<string, LedgerEntry>;
  /** Top-level objects (auths, credHelpers) that did not exist before registry-login created them. */
  created: string[];
}

/** A ledger for a config file nothing has been written to yet. */
export function emptyLedger(configPath: string): Ledger {
  return { version: 1, configPath, entries: {}, created: [] };
}

/** Hashes a config entry, so the ledger can recognise it without holding the credential. */
export function hashEntry(value: unknown): string {
  return nodeCrypto().createHash('sha256').update(JSON.stringify(value) ?? 'undefined').digest('hex');
}

// node:crypto costs ~3.5 ms to load; a refresh that changes nothing never needs it, so it is loaded on first use.
let cryptoModule: typeof import('node:crypto') | undefined;
function nodeCrypto(): typeof import('node:crypto') {
  return (cryptoModule ??= createRequire('/registry-login.js')('node:crypto') as typeof import('node:crypto'));
}

/** The per-user state directory ($XDG_STATE_HOME/registry-login, else ~/.local/state/registry-login). */
export function stateDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'registry-login');
}

/** Where the ledger of a config file (by its real path) lives: the state directory, never beside a possibly shared config. */
export function ledgerPath(env: NodeJS.ProcessEnv, configTarget: string): string {
  return join(stateDir(env), `ledger-${pathId(configTarget)}.json`);
}

// A path is not a secret: two FNV-1a 32-bit hashes (different offsets) name its ledger without SHA-256's first-call cost.
function pathId(path: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

/** Reads a ledger from its JSON text; anything unusable counts as empty (the config stays the source of truth). */
export function parseLedger(text: string | undefined, configPath: string): Ledger {
  if (!text) return emptyLedger(configPath);
  try {
    const value = JSON.parse(text) as Partial<Ledger>;
    if (value && value.version === 1 && typeof value.entries === 'object' && value.entries !== null) {
      return { version: 1, configPath, entries: value.entries, created: Array.isArray(value.created) ? value.created : [] };
    }
  } catch {
    // fall through: a damaged ledger only costs the memory of displaced entries
  }
  return emptyLedger(configPath);
}
