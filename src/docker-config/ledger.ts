// What registry-login wrote into one docker config file, so it can update, remove and restore its entries.
import { sha256Hex } from '../sha256.js';
import { fingerprint64 } from '../fingerprint.js';
import { dictionary } from '../dictionary.js';
import { join } from 'node:path';
import type { Kind } from '../types.js';

/** One managed registry key. */
export interface LedgerEntry {
  prefix: string;
  kind: Kind;
  /**
   * Hashes of the auths entries written for this key, newest first. The ledger saved after a successful config write
   * keeps two; the one saved before a write also keeps the hash of what the config holds, however many writes failed.
   */
  authHashes: string[];
  /** What stood at auths[key] / credHelpers[key] before registry-login first wrote there. */
  displaced?: { auths?: unknown; credHelpers?: unknown };
  issuedAt?: string;
  expiresAt?: string;
  /** The role ARN the token was swapped through (not a secret). */
  role?: string;
  /**
   * 'memory': written in memory mode, with no auths entry; its credHelpers line is what makes it ours (authHashes stay
   * empty, so nothing derived from the secret is kept).
   */
  secretAt?: 'memory';
  /** Memory mode: the credentials the helper serves; only ever in a ledger kept in the memory directory. */
  memory?: { username: string; secret: string };
}

/** The ledger of one config file. */
export interface Ledger {
  version: 1;
  configPath: string;
  entries: Record<string, LedgerEntry>;
  /** Top-level objects (auths, credHelpers) that did not exist before registry-login created them. */
  created: string[];
}

/** The credentials a memory-mode ledger holds, by key (none in config mode). */
export function memoryCredentials(ledger: Ledger): Record<string, { username: string; secret: string }> {
  const out = dictionary<{ username: string; secret: string }>();
  for (const [key, entry] of Object.entries(ledger.entries)) if (entry.memory) out[key] = entry.memory;
  return out;
}

/** A ledger for a config file nothing has been written to yet. */
export function emptyLedger(configPath: string): Ledger {
  return { version: 1, configPath, entries: dictionary<LedgerEntry>(), created: [] };
}

/** Hashes a config entry, so the ledger can recognise it without holding the credential. */
export function hashEntry(value: unknown): string {
  return sha256Hex(JSON.stringify(value) ?? 'undefined');
}

/**
 * Where the ledger of a config file (by its real path) lives: the state directory, never beside a possibly shared
 * config.
 */
export function ledgerPath(stateDir: string, configTarget: string): string {
  return join(stateDir, `ledger-${fingerprint64(configTarget)}.json`);
}

/** Reads a ledger from its JSON text; anything unusable counts as empty (the config stays the source of truth). */
export function parseLedger(text: string | undefined, configPath: string): Ledger {
  if (!text) return emptyLedger(configPath);
  try {
    const value = JSON.parse(text) as Partial<Ledger>;
    if (value && value.version === 1 && typeof value.entries === 'object' && value.entries !== null) {
      const entries = dictionary<LedgerEntry>();
      for (const [key, entry] of Object.entries(value.entries)) if (isLedgerEntry(entry)) entries[key] = entry;
      const created = Array.isArray(value.created)
        ? value.created.filter((c) => c === 'auths' || c === 'credHelpers')
        : [];
      return { version: 1, configPath, entries, created };
    }
  } catch {
    // fall through: a damaged ledger only costs the memory of displaced entries
  }
  return emptyLedger(configPath);
}

const KINDS = new Set<string>(['static', 'ecr-token', 'ecr-keys', 'ecr-public-keys']);

// An entry edited by hand or written by another version is dropped rather than trusted half-way.
function isLedgerEntry(value: unknown): value is LedgerEntry {
  if (!value || typeof value !== 'object') return false;
  const entry = value as Partial<LedgerEntry>;
  return (
    typeof entry.prefix === 'string' &&
    typeof entry.kind === 'string' &&
    KINDS.has(entry.kind) &&
    Array.isArray(entry.authHashes) &&
    entry.authHashes.every((h) => typeof h === 'string') &&
    (entry.displaced === undefined || (typeof entry.displaced === 'object' && entry.displaced !== null)) &&
    (entry.issuedAt === undefined || typeof entry.issuedAt === 'string') &&
    (entry.expiresAt === undefined || typeof entry.expiresAt === 'string') &&
    (entry.role === undefined || typeof entry.role === 'string')
  );
}
