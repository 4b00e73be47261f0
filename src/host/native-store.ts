// A docker-credential-<name> program as a store (the docker credential helper protocol), each call bounded in time.
// Loaded only when a login must be read from or written to such a program: execa is not needed otherwise.
import { execa } from 'execa';
import type { CredentialStore, StoredCredentials } from './store.js';

/** How long a call may take: reads are quick; a store or erase may wait for the user (a keychain's dialog). */
export const STORE_TIMEOUTS = { read: 10_000, write: 120_000 };

const NOT_FOUND = 'credentials not found in native keychain';

/** How the store came to be chosen, for messages: `credsStore "pass" in ~/.docker/config.json`. */
export interface HelperOrigin {
  configPath: string;
  setBy: 'credHelpers' | 'credsStore' | 'default-store';
  key?: string;
}

/** docker-credential-<name>, run from the absolute path found on PATH (program undefined: not on PATH). */
export class NativeStore implements CredentialStore {
  constructor(
    readonly name: string,
    private readonly program: string | undefined,
    private readonly origin: HelperOrigin,
    private readonly env: NodeJS.ProcessEnv,
    private readonly timeouts = STORE_TIMEOUTS,
  ) {}

  async get(key: string): Promise<StoredCredentials | undefined> {
    const answer = await this.call('get', key, this.timeouts.read);
    if (!answer.ok) {
      if (answer.output.includes(NOT_FOUND)) return undefined;
      throw this.failure('get', answer.output);
    }
    let value: { Username?: unknown; Secret?: unknown };
    try {
      value = JSON.parse(answer.output) as typeof value;
    } catch {
      throw storeError(`${this.describe()} answered \`get\` with something that is not JSON; ${this.hint()}`);
    }
    const username = typeof value?.Username === 'string' ? value.Username : '';
    const secret = typeof value?.Secret === 'string' ? value.Secret : '';
    // Some helpers (docker-credential-pass 0.6) answer an unknown server with empty credentials and success.
    return username === '' && secret === '' ? undefined : { username, secret };
  }

  async store(key: string, credentials: StoredCredentials): Promise<void> {
    const input = JSON.stringify({ ServerURL: key, Username: credentials.username, Secret: credentials.secret });
    const answer = await this.call('store', input, this.timeouts.write, credentials.secret);
    if (!answer.ok) throw this.failure('store', answer.output);
  }

  async erase(key: string): Promise<void> {
    const answer = await this.call('erase', key, this.timeouts.write);
    if (!answer.ok && !answer.output.includes(NOT_FOUND)) throw this.failure('erase', answer.output);
  }

  private async call(
    action: string,
    input: string,
    timeout: number,
    secret?: string,
  ): Promise<{ ok: boolean; output: string }> {
    if (this.program === undefined) throw storeError(this.missing());
    const run = execa(this.program, [action], {
      input,
      env: this.env,
      extendEnv: false,
      reject: false,
      // Its own process group, so a hung helper is stopped together with whatever it started (gpg, a shell's children).
      detached: true,
      killSignal: 'SIGKILL',
      stripFinalNewline: true,
      encoding: 'utf8',
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(run.pid);
    }, timeout);
    try {
      const result = await run;
      if (timedOut)
        throw storeError(
          `${this.describe()} did not answer \`${action}\` within ${timeout / 1000} s; ${this.hangHint()}`,
        );
      if (result.failed && result.exitCode === undefined)
        throw storeError(`${this.describe()} could not be run (${result.code ?? result.shortMessage}); ${this.hint()}`);
      const output = scrub(`${result.stdout}\n${result.stderr}`.trim(), secret);
      return { ok: result.exitCode === 0, output: result.exitCode === 0 ? result.stdout : output };
    } finally {
      clearTimeout(timer);
    }
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
    const { setBy, configPath, key } = this.origin;
    const install = INSTALL[this.name] ?? `install docker-credential-${this.name} or put its directory on PATH`;
    const instead =
      setBy === 'credHelpers'
        ? `or remove the credHelpers line for ${key} from ${configPath}`
        : `or remove "credsStore" from ${configPath} to keep logins in the file itself`;
    return `${this.describe()} is not on PATH, so neither docker nor registry-login can use this store; ${install}, ${instead}, then run \`registry-login refresh --host\` again.`;
  }

  private hint(): string {
    return `${HINTS[this.name] ?? `check that \`docker login\` works with this store`}, then run \`registry-login refresh --host\` again.`;
  }

  private hangHint(): string {
    return `it may be waiting for a locked keychain or a dialog, or be broken (${HINTS[this.name] ?? 'check that `docker login` works with this store'}); then run \`registry-login refresh --host\` again.`;
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

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function scrub(text: string, secret: string | undefined): string {
  return secret && secret.length >= 4 ? text.split(secret).join('***') : text;
}

/** A store's failure, told apart by its name (isStoreError in stores.ts): this file is a lazy chunk of its own. */
function storeError(message: string): Error {
  const error = new Error(message);
  error.name = 'StoreError';
  return error;
}
