// Which credentials docker would send for a registry key: the credential store docker's lookup (src/docker/lookup.ts)
// names, then how that store behaves: a helper that is missing or fails falls back to auths; one that hangs blocks docker.
// dockerVerdict turns that into the one answer status and check give: does docker use this login, and if not, why.
import { decodeAuthsEntry } from '../docker/auth.js';
import { lookupStore, memberObject, type HelperSetBy } from '../docker/lookup.js';
import type { Credentials } from '../types.js';

/** The helper name registry-login writes into credHelpers (docker runs docker-credential-registry-login). */
export const HELPER_NAME = 'registry-login';

/** Where docker gets a key's credentials from. */
export type DockerSource =
  /** registry-login's helper serving a login that `docker login` stored through it. */
  | 'docker-login'
  /** registry-login's helper serving a login whose secret it keeps in memory only (no auths entry). */
  | 'memory'
  /** auths[key], read by docker directly or served by registry-login's helper. */
  | 'auths'
  /** A helper other than registry-login's, whose answer registry-login cannot see. */
  | 'other-helper'
  /** A helper that does not answer: docker waits for it without end. */
  | 'blocked'
  /** Nothing: docker would send no credentials. */
  | 'none';

/** What docker would use for one key. */
export interface DockerChoice {
  source: DockerSource;
  /** The helper docker asks (from credHelpers or credsStore), when one is configured. */
  helper?: string;
  helperSetBy?: HelperSetBy;
  /** How the helper behaves; absent when it answers. Missing or failing: docker falls back to auths. */
  helperHealth?: Exclude<HelperHealth, 'answers'>;
  /** The auths entry docker (or registry-login's helper) reads. */
  authsEntry?: unknown;
  /** The user name and secret docker would send, when registry-login can read them. */
  credentials?: Credentials;
}

/** The parts of the docker config and helper state that decide a key's credentials. */
export interface DockerViewInput {
  config: Record<string, unknown>;
  /** The docker logins: what `docker login` stored through registry-login's helper, by key (readDockerLogins). */
  dockerLogins: Record<string, Credentials>;
  /** Memory mode: the credentials registry-login's helper serves from memory, by key. */
  memory?: Record<string, Credentials>;
  /** How `docker-credential-<name>` behaves: at least whether it is on PATH; observeHelpers probes a foreign store. */
  helperHealth: (name: string) => HelperHealth;
  /** The store docker picks when the config holds no auth at all (detectDefaultStore); undefined: none. */
  defaultStore?: string | undefined;
}

/** How a credential helper behaves when docker runs it. */
export type HelperHealth = 'answers' | 'missing' | 'fails' | 'hangs';

/** Works out, as the docker CLI does, which credentials docker would send for key. Pure. */
export function dockerChoice(key: string, input: DockerViewInput): DockerChoice {
  const authsEntry = memberObject(input.config, 'auths')[key];
  const fromAuths = (extra: Partial<DockerChoice>): DockerChoice => {
    const credentials = decodeAuthsEntry(authsEntry);
    if (!credentials) return { source: 'none', ...(authsEntry !== undefined ? { authsEntry } : {}), ...extra };
    return { source: 'auths', authsEntry, credentials, ...extra };
  };
  const found = lookupStore(input.config, key, () => input.defaultStore);
  if (found.store === 'auths') return fromAuths({});
  const { helper, setBy } = found;
  // Measured with docker CLI 28: a helper that is missing or exits non-zero makes docker read the auths entry
  // (printing a failing helper's error); one that does not answer blocks docker.
  const health = input.helperHealth(helper);
  if (health === 'hangs') return { source: 'blocked', helper, helperSetBy: setBy, helperHealth: health };
  if (health !== 'answers') return fromAuths({ helper, helperSetBy: setBy, helperHealth: health });
  if (helper !== HELPER_NAME) return { source: 'other-helper', helper, helperSetBy: setBy };
  const dockerLogin = Object.hasOwn(input.dockerLogins, key) ? input.dockerLogins[key] : undefined;
  if (dockerLogin) return { source: 'docker-login', helper, helperSetBy: setBy, credentials: dockerLogin };
  const inMemory = input.memory && Object.hasOwn(input.memory, key) ? input.memory[key] : undefined;
  if (inMemory) return { source: 'memory', helper, helperSetBy: setBy, credentials: inMemory };
  // registry-login's helper answers from auths, as docker would without it.
  return fromAuths({ helper, helperSetBy: setBy });
}

/** The helper docker asks for a key without a credHelpers entry (docker's lookup for the key ""). */
export function helperForUnlistedKeys(
  config: Record<string, unknown>,
  defaultStore: string | undefined,
): string | undefined {
  const found = lookupStore(config, '', () => defaultStore);
  return found.store === 'helper' ? found.helper : undefined;
}

/** Why docker uses a login or not: the one verdict behind status's STATE column and check's `not-effective`. */
export type VerdictCode =
  /** docker sends the entry registry-login wrote. */
  | 'used'
  /** registry-login's helper serves the login `docker login` stored through it. */
  | 'used-docker-login'
  /** The token expired; registry-login's helper gets a new one when docker asks. */
  | 'used-helper-renews'
  /** registry-login's helper is not on PATH: docker reads the auths entry itself (ECR tokens are not renewed). */
  | 'used-own-helper-missing'
  /** Another helper in charge is missing or fails: docker falls back to the auths entry. */
  | 'used-helper-missing'
  | 'used-helper-fails'
  /** credHelpers sends the key to another helper. */
  | 'other-helper'
  /** No credHelpers entry: the config's credsStore, or docker's default store, answers for the key. */
  | 'creds-store'
  | 'default-store'
  /** The helper in charge does not answer: docker waits for it. */
  | 'helper-hangs'
  /** auths holds nothing usable for the key. */
  | 'no-entry'
  /** registry-login's helper serves the login from memory (memory mode). */
  | 'used-memory'
  | 'empty-entry'
  /** auths holds credentials other than registry-login's (check compares them with the secrets). */
  | 'changed'
  | 'not-written'
  | 'older-secret'
  | 'expired';

export interface Verdict {
  code: VerdictCode;
  /** Whether docker sends registry-login's login (or the one `docker login` stored through its helper). */
  used: boolean;
  /** What is wrong or worth knowing, and what to do; absent for a plain `used`. */
  sentence?: string;
}

/** What the caller knows of the login beside the config: how docker's auths entry compares with it, its expiry. */
export interface LoginFacts {
  configPath: string;
  /** current: the entry registry-login writes for the login; otherwise why not. */
  entry: 'current' | 'changed' | 'not-written' | 'older-secret';
  expiresAt?: string | undefined;
  now: Date;
  /** The AWS keys are at hand, so registry-login's helper can renew an expired token. */
  renewable: boolean;
}

/** Does docker use the login registry-login keeps for key, and if not, why and what to do. Pure. */
export function dockerVerdict(key: string, choice: DockerChoice, facts: LoginFacts): Verdict {
  const { configPath } = facts;
  const helper = `docker-credential-${choice.helper ?? ''}`;
  switch (choice.source) {
    case 'blocked':
      return {
        code: 'helper-hangs',
        used: false,
        sentence: `${helperClause(key, choice, configPath)}; ${whatClientsDo(choice)}`,
      };
    case 'other-helper':
      if (choice.helperSetBy === 'credHelpers')
        return {
          code: 'other-helper',
          used: false,
          sentence: `credHelpers sends ${key} to ${helper}; remove that line from ${configPath}`,
        };
      if (choice.helperSetBy === 'default-store') {
        return {
          code: 'default-store',
          used: false,
          sentence: `${configPath} holds no login at all, so docker asks its default store ${helper}; run \`registry-login refresh\``,
        };
      }
      return {
        code: 'creds-store',
        used: false,
        sentence: `no credHelpers entry for ${key}, so docker asks the credsStore helper ${helper} instead; run \`registry-login refresh\``,
      };
    case 'memory':
      return { code: 'used-memory', used: true, sentence: `served by ${helper} from memory (secrets in memory only)` };
    case 'docker-login':
      return { code: 'used-docker-login', used: true, sentence: 'served from the login stored by `docker login`' };
    case 'none':
      if (choice.authsEntry === undefined)
        return {
          code: 'no-entry',
          used: false,
          sentence: `the auths entry is gone (docker logout?): ${configPath} holds no login for ${key}; run \`registry-login refresh\``,
        };
      return {
        code: 'empty-entry',
        used: false,
        sentence: `the auths entry for ${key} was changed outside registry-login and holds no credentials; run \`registry-login logout ${key}\` then \`registry-login refresh\``,
      };
    case 'auths':
      break;
  }
  switch (facts.entry) {
    case 'changed':
      return {
        code: 'changed',
        used: false,
        sentence: `the auths entry for ${key} was changed outside registry-login; run \`registry-login logout ${key}\` then \`registry-login refresh\``,
      };
    case 'not-written':
      return {
        code: 'not-written',
        used: false,
        sentence: `${configPath} holds credentials for ${key} that registry-login did not write; run \`registry-login refresh\` (\`registry-login logout\` puts them back)`,
      };
    case 'older-secret':
      return {
        code: 'older-secret',
        used: false,
        sentence: `${configPath} holds other credentials for ${key} (from an older secret); run \`registry-login refresh\``,
      };
    case 'current':
      break;
  }
  const ownHelper = choice.helper === HELPER_NAME;
  if (facts.expiresAt && Date.parse(facts.expiresAt) <= facts.now.getTime()) {
    if (ownHelper && !choice.helperHealth && facts.renewable) {
      return {
        code: 'used-helper-renews',
        used: true,
        sentence: `the token expired at ${facts.expiresAt}; ${helper} gets a new one when docker next asks`,
      };
    }
    return {
      code: 'expired',
      used: false,
      sentence: `the token expired at ${facts.expiresAt}; run \`registry-login refresh\``,
    };
  }
  if (ownHelper && choice.helperHealth) {
    return {
      code: 'used-own-helper-missing',
      used: true,
      sentence: `${helper} is not on PATH, so docker reads the auths entry itself (ECR tokens are then not renewed); put it on PATH`,
    };
  }
  if (choice.helperHealth === 'missing' || choice.helperHealth === 'fails') {
    const code = choice.helperHealth === 'missing' ? 'used-helper-missing' : 'used-helper-fails';
    return { code, used: true, sentence: `${helperClause(key, choice, configPath)}; ${whatClientsDo(choice)}` };
  }
  return { code: 'used', used: true };
}

/** A credsStore (or default store) that cannot answer: every registry without a credHelpers entry meets it. */
export interface StoreTrouble {
  store: string;
  /** credsStore or default-store: the store of keys without a credHelpers entry. */
  setBy: HelperSetBy;
  health: Exclude<HelperHealth, 'answers'>;
  sentence: string;
}

/** Says what a store that is missing, failing or hanging does to docker, or undefined when it answers. Pure. */
export function storeTrouble(input: DockerViewInput, configPath: string): StoreTrouble | undefined {
  const found = lookupStore(input.config, '', () => input.defaultStore);
  if (found.store === 'auths' || found.helper === HELPER_NAME) return undefined;
  const { helper: store, setBy } = found;
  const health = input.helperHealth(store);
  if (health === 'answers') return undefined;
  const choice: DockerChoice = { source: 'none', helper: store, helperSetBy: setBy, helperHealth: health };
  return {
    store,
    setBy,
    health,
    sentence: `${helperClause('every registry without a credHelpers entry', choice, configPath)}; ${whatClientsDo(choice)}`,
  };
}

// Which helper docker asks for `whom`, and what is wrong with it.
function helperClause(whom: string, choice: DockerChoice, configPath: string): string {
  const helper = `docker-credential-${choice.helper ?? ''}`;
  const state = { missing: 'is not on PATH', fails: 'fails when docker runs it', hangs: 'does not answer' }[
    choice.helperHealth ?? 'missing'
  ];
  if (choice.helperSetBy === 'credHelpers') return `credHelpers sends ${whom} to ${helper}, which ${state}`;
  if (choice.helperSetBy === 'default-store')
    return `${configPath} holds no login, so docker asks its default store ${helper} for ${whom}, and it ${state}`;
  return `${configPath} names the credsStore "${choice.helper ?? ''}", which docker asks for ${whom}, and ${helper} ${state}`;
}

// What the clients measured here (docker CLI 28, its legacy builder, skopeo) then do, and the fix.
function whatClientsDo(choice: DockerChoice): string {
  const effect = {
    missing: 'docker pull and docker build go on without it (reading auths, or anonymously)',
    fails: 'docker pull and docker build print its error and go on without it (reading auths, or anonymously)',
    hangs: 'docker pull and docker build wait for it without end',
  }[choice.helperHealth ?? 'missing'];
  const skopeo = choice.helperSetBy === 'credHelpers' ? '' : '; skopeo ignores credsStore';
  return `${effect}${skopeo}. ${fixFor(choice)}`;
}

function fixFor(choice: DockerChoice): string {
  if (choice.helperSetBy === 'credHelpers') return 'Remove that credHelpers line, or put the helper on PATH';
  if (choice.helperSetBy === 'default-store')
    return `Set up that store, or run \`registry-login refresh\` (a config holding a login keeps docker off the default store)`;
  return (
    'An editor adds such a store for its own terminals (VS Code: dev-containers-*, DevPod: devpod): run docker there, ' +
    'or point DOCKER_CONFIG at a folder whose config.json has no "credsStore", or remove the "credsStore" line ' +
    '(registry-login never edits it; logins it manages carry their own credHelpers entry)'
  );
}
