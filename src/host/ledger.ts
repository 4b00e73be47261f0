// What `refresh --host` stored, per docker config file: where each login went and a keyed SHA-256 fingerprint of it,
// never the secret, so an unchanged login costs nothing and logout removes only what is still exactly ours.
import { join } from 'node:path';
import { fingerprint64 } from '../fingerprint.js';
import type { Kind } from '../types.js';
import type { StoredCredentials } from './store.js';

/** One login a host run stored. */
export interface HostLedgerEntry {
  prefix: string;
  kind: Kind;
  /** 'file' (the config's auths) or the credential helper's name. */
  store: string;
  /** HMAC-SHA-256 of key, user name and secret under the ledger's salt: what decides that a stored login is ours. */
  fingerprint: string;
  issuedAt?: string;
  expiresAt?: string;
}

/** The host ledger of one config file. */
export interface HostLedger {
  version: 1;
  configPath: string;
  /** Random, per ledger: the fingerprints cannot be compared across files or looked up in a precomputed table. */
  salt: string;
  entries: Record<string, HostLedgerEntry>;
}

/**
 * Where the host ledger of a config file (by its real path) lives, beside the container ledger in the state directory.
 */
export function hostLedgerPath(stateDir: string, configTarget: string): string {
  return join(stateDir, `host-ledger-${fingerprint64(configTarget)}.json`);
}

/** Reads a host ledger; anything unusable counts as empty (a login it forgets is looked up in its store again). */
export function parseHostLedger(text: string | undefined, configPath: string): HostLedger {
  try {
    const value = text ? (JSON.parse(text) as Partial<HostLedger>) : undefined;
    if (
      value?.version === 1 &&
      typeof value.salt === 'string' &&
      value.salt.length >= 32 &&
      value.entries &&
      typeof value.entries === 'object'
    ) {
      const entries = Object.create(null) as Record<string, HostLedgerEntry>;
      for (const [key, entry] of Object.entries(value.entries)) if (isEntry(entry)) entries[key] = entry;
      return { version: 1, configPath, salt: value.salt, entries };
    }
  } catch {
    // fall through
  }
  return { version: 1, configPath, salt: '', entries: Object.create(null) as Record<string, HostLedgerEntry> };
}

/** The ledger's salt, made on first use. */
export function ensureSalt(ledger: HostLedger): string {
  if (ledger.salt === '') ledger.salt = process.getBuiltinModule('node:crypto').randomBytes(32).toString('hex');
  return ledger.salt;
}

/** The fingerprint of a login for key under the ledger's salt. */
export function fingerprintLogin(ledger: HostLedger, key: string, credentials: StoredCredentials): string {
  const crypto = process.getBuiltinModule('node:crypto');
  return crypto
    .createHmac('sha256', ensureSalt(ledger))
    .update(`registry-login host v1\0${key}\0${credentials.username}\0${credentials.secret}`)
    .digest('hex');
}

/** The ledger as written to disk. */
export function serializeHostLedger(ledger: HostLedger): string {
  return `${JSON.stringify(ledger, null, 2)}\n`;
}

function isEntry(value: unknown): value is HostLedgerEntry {
  const entry = value as Partial<HostLedgerEntry> | null;
  return (
    !!entry &&
    typeof entry.prefix === 'string' &&
    typeof entry.kind === 'string' &&
    typeof entry.store === 'string' &&
    typeof entry.fingerprint === 'string' &&
    (entry.issuedAt === undefined || typeof entry.issuedAt === 'string') &&
    (entry.expiresAt === undefined || typeof entry.expiresAt === 'string')
  );
}
