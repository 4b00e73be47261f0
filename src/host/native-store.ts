// A docker-credential-<name> program as a credential store (the docker credential helper protocol), run through the
// helper client; this file turns each outcome into the message that says what is wrong and what to do.
import {
  HELPER_DEADLINES,
  HELPER_OUTPUT_LIMIT,
  runHelper,
  saysNotFound,
  type HelperAction,
  type HelperProgram,
} from '../docker/helper-client.js';
import type { HelperSetBy } from '../docker/lookup.js';
import type { CredentialStore } from './credential-store.js';
import type { Credentials } from '../types.js';
import { Redactor } from '../redact.js';

/** How the store came to be chosen, for messages: `credsStore "pass" in ~/.docker/config.json`. */
export interface HelperOrigin {
  configPath: string;
  setBy: HelperSetBy;
  key?: string;
  /** The command to run again once the store is fixed; `registry-login refresh --host` unless given. */
  retry?: string;
}

/** docker-credential-<name>, run from the absolute path found on PATH. */
export class NativeStore implements CredentialStore {
  constructor(
    readonly name: string,
    private readonly program: HelperProgram,
    private readonly origin: HelperOrigin,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  async get(key: string): Promise<Credentials | undefined> {
    const output = await this.call('get', key);
    if (output === undefined) return undefined;
    let value: { Username?: unknown; Secret?: unknown };
    try {
      value = JSON.parse(output) as typeof value;
    } catch {
      throw storeError(`${this.describe()} answered \`get\` with something that is not JSON; ${this.hint()}`);
    }
    const username = typeof value?.Username === 'string' ? value.Username : '';
    const secret = typeof value?.Secret === 'string' ? value.Secret : '';
    // Some helpers (docker-credential-pass 0.6) answer an unknown server with empty credentials and success.
    return username === '' && secret === '' ? undefined : { username, secret };
  }

  async store(key: string, credentials: Credentials): Promise<void> {
    const input = JSON.stringify({ ServerURL: key, Username: credentials.username, Secret: credentials.secret });
    await this.call('store', input, credentials.secret);
  }

  async erase(key: string): Promise<void> {
    await this.call('erase', key);
  }

  /** The helper's stdout when it succeeded, undefined when it said "not found"; any other outcome throws. */
  private async call(action: HelperAction, input: string, secret?: string): Promise<string | undefined> {
    const { program } = this;
    if (program.kind === 'bad-name') throw storeError(this.badName());
    if (program.kind === 'missing') throw storeError(this.missing());
    const answer = await runHelper(program.path, action, input, this.env);
    switch (answer.kind) {
      case 'timed-out':
        throw storeError(
          `${this.describe()} did not answer \`${action}\` within ${HELPER_DEADLINES[action] / 1000} s; ${this.hangHint()}`,
        );
      case 'too-much-output':
        throw storeError(
          `${this.describe()} printed more than ${HELPER_OUTPUT_LIMIT / 1024 / 1024} MiB for \`${action}\` and was stopped; ${this.hint()}`,
        );
      case 'unrunnable':
        throw storeError(`${this.describe()} could not be run (${answer.reason}); ${this.hint()}`);
    }
    if (answer.ok) return answer.stdout;
    if (action !== 'store' && saysNotFound(answer)) return undefined;
    throw this.failure(action, scrub(`${answer.stdout}\n${answer.stderr}`.trim(), secret));
  }

  private describe(): string {
    const { setBy, configPath, key } = this.origin;
    if (setBy === 'credHelpers') return `docker-credential-${this.name} (credHelpers["${key}"] in ${configPath})`;
    if (setBy === 'credsStore') return `docker-credential-${this.name} (credsStore "${this.name}" in ${configPath})`;
    return `docker-credential-${this.name} (the store docker picks on this machine when ${configPath} names none)`;
  }

  private failure(action: string, output: string): Error {
    const said = output.split('\n')[0]!.slice(0, 200);
    return storeError(`${this.describe()} failed to ${action} the login${said ? ` ("${said}")` : ''}; ${this.hint()}`);
  }

  private missing(): string {
    const install = INSTALL[this.name] ?? `install docker-credential-${this.name} or put its directory on PATH`;
    return `${this.describe()} is not on PATH (registry-login, like docker, looks only in PATH's absolute folders), so neither docker nor registry-login can use this store; ${install}, ${this.instead()}, ${this.again()}.`;
  }

  private badName(): string {
    return `${this.describe()} is not a credential helper's name (a name holds no "/", "\\" or ".."), so registry-login will not run it; correct the name ${this.instead()}, ${this.again()}.`;
  }

  private again(): string {
    return `then run \`${this.origin.retry ?? 'registry-login refresh --host'}\` again`;
  }

  private instead(): string {
    const { setBy, configPath, key } = this.origin;
    return setBy === 'credHelpers'
      ? `or remove the credHelpers line for ${key} from ${configPath}`
      : `or remove "credsStore" from ${configPath} to keep logins in the file itself`;
  }

  private hint(): string {
    return `${HINTS[this.name] ?? `check that \`docker login\` works with this store`}, ${this.again()}.`;
  }

  private hangHint(): string {
    return `it may be waiting for a locked keychain or a dialog, or be broken (${HINTS[this.name] ?? 'check that `docker login` works with this store'}); ${this.again()}.`;
  }
}

const INSTALL: Record<string, string> = {
  pass: 'install it (Debian and Ubuntu: apt-get install golang-docker-credential-helpers; elsewhere a release of docker-credential-helpers)',
  secretservice:
    'install it (Debian and Ubuntu: apt-get install golang-docker-credential-helpers; elsewhere a release of docker-credential-helpers)',
  osxkeychain: 'install it (brew install docker-credential-helper), or reinstall Docker Desktop, which ships it',
  desktop: 'start or reinstall Docker Desktop, which ships it',
  'desktop.exe': 'start Docker Desktop with WSL integration enabled for this distribution, which puts it on PATH',
  wincred: 'install it (a release of docker-credential-helpers), or reinstall Docker Desktop, which ships it',
};

const HINTS: Record<string, string> = {
  pass: 'check that `pass` is set up for this user (`pass init <gpg-key-id>`) and that gpg can use that key (`pass ls`)',
  secretservice: 'it needs a D-Bus session and an unlocked keyring (GNOME Keyring or KWallet)',
  osxkeychain: 'unlock the login keychain and allow access if macOS asks',
  desktop: 'make sure Docker Desktop is running',
  'desktop.exe': 'make sure Docker Desktop is running on Windows',
  wincred: 'check the Windows Credential Manager',
};

// Before the message is cut short: a secret cut in two would no longer be found by the printing redactor.
function scrub(text: string, secret: string | undefined): string {
  const redactor = new Redactor();
  redactor.add(secret);
  return redactor.redact(text);
}

/** A store's failure, told apart by its name (isStoreError in credential-store.ts). */
function storeError(message: string): Error {
  const error = new Error(message);
  error.name = 'StoreError';
  return error;
}
