// The one redaction point: everything registry-login prints passes through a Redactor.
import { MEMBER_PATTERN } from './discover.js';

const MASK = '***';
// Below this length a "secret" would mask ordinary words; such values are still never printed on purpose.
const MIN_SECRET_LENGTH = 4;

/** Replaces every known secret, raw or base64-encoded, with ***. */
export class Redactor {
  /** Every registered secret in each form it may be printed in: raw, base64 (padding ignored) and base64url. */
  private forms = new Set<string>();

  /** Registers secrets (and so their base64 forms) to be masked. */
  add(...values: (string | undefined)[]): void {
    for (const value of values) {
      if (!value || value.length < MIN_SECRET_LENGTH) continue;
      const bytes = Buffer.from(value, 'utf8');
      this.forms.add(value).add(bytes.toString('base64').replace(/=+$/, '')).add(bytes.toString('base64url'));
    }
  }

  /** Registers the password, secret key and session token of every registry group in an environment. */
  addFromEnv(env: NodeJS.ProcessEnv): void {
    for (const [name, value] of Object.entries(env)) {
      const m = MEMBER_PATTERN.exec(name);
      if (m && /^(PASSWORD|SESSION_TOKEN)$/i.test(m[2]!)) this.add(value, value?.trim());
    }
  }

  /** Masks every registered secret in text, raw, base64 or base64url (padding ignored). */
  redact(text: string): string {
    let out = text;
    // Longest first: a secret that holds another is masked whole.
    for (const form of [...this.forms].sort((a, b) => b.length - a.length)) out = out.split(form).join(MASK);
    return out;
  }
}
