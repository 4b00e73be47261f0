// The one redaction point: everything registry-login prints passes through a Redactor.
import { MEMBER_PATTERN } from './discover.js';

const MASK = '***';
// Below this length a "secret" would mask ordinary words; such values are still never printed on purpose.
const MIN_SECRET_LENGTH = 4;

/** Replaces every known secret, raw or base64-encoded, with ***. */
export class Redactor {
  private secrets = new Set<string>();
  private sorted: string[] | undefined;

  /** Registers secrets (and their base64 forms) to be masked. */
  add(...values: (string | undefined)[]): void {
    for (const value of values) {
      if (!value || value.length < MIN_SECRET_LENGTH) continue;
      for (const form of [value, Buffer.from(value).toString('base64'), Buffer.from(value).toString('base64url')]) {
        if (form.length >= MIN_SECRET_LENGTH) this.secrets.add(form.replace(/=+$/, ''));
      }
    }
    this.sorted = undefined;
  }

  /** Registers the password, secret key and session token of every registry group in an environment. */
  addFromEnv(env: NodeJS.ProcessEnv): void {
    for (const [name, value] of Object.entries(env)) {
      const m = MEMBER_PATTERN.exec(name);
      if (m && /^(PASSWORD|SESSION_TOKEN)$/i.test(m[2]!)) this.add(value, value?.trim());
    }
  }

  /** Masks every registered secret in text. */
  redact(text: string): string {
    if (this.secrets.size === 0) return text;
    this.sorted ??= [...this.secrets].sort((a, b) => b.length - a.length);
    let out = text;
    for (const secret of this.sorted) if (out.includes(secret)) out = out.split(secret).join(MASK);
    return out;
  }
}
