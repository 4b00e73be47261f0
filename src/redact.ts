// The one redaction point: everything registry-login prints passes through a Redactor.
import { MEMBER_PATTERN } from './discover.js';

const MASK = '***';
// Below this length a "secret" would mask ordinary words; such values are still never printed on purpose.
const MIN_SECRET_LENGTH = 4;

/** Replaces every known secret, raw or base64-encoded, with ***. */
export class Redactor {
  private secrets = new Set<string>();
  // Base64 forms are computed only for text that holds their first four characters (the encoding of the
  // first three bytes): 20 ECR tokens of 2,000 characters would otherwise cost milliseconds at every start.
  private encoded = new Map<string, string[]>();

  /** Registers secrets (and so their base64 forms) to be masked. */
  add(...values: (string | undefined)[]): void {
    for (const value of values) if (value && value.length >= MIN_SECRET_LENGTH) this.secrets.add(value);
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
    if (this.secrets.size === 0) return text;
    const found: string[] = [];
    for (const secret of this.secrets) {
      if (text.includes(secret)) found.push(secret);
      const [head, headUrl] = base64Heads(secret);
      if (text.includes(head) || text.includes(headUrl)) found.push(...this.forms(secret).filter((form) => text.includes(form)));
    }
    let out = text;
    for (const secret of found.sort((a, b) => b.length - a.length)) if (out.includes(secret)) out = out.split(secret).join(MASK);
    return out;
  }

  private forms(secret: string): string[] {
    let forms = this.encoded.get(secret);
    if (!forms) {
      const bytes = Buffer.from(secret, 'utf8');
      forms = [bytes.toString('base64').replace(/=+$/, ''), bytes.toString('base64url')];
      this.encoded.set(secret, forms);
    }
    return forms;
  }
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The first four characters of a secret's base64 and base64url forms: the encoding of its first three bytes. */
function base64Heads(secret: string): [string, string] {
  const [a, b, c] = [secret.charCodeAt(0), secret.charCodeAt(1), secret.charCodeAt(2)];
  // Secrets are at least four characters; for ASCII ones the bytes are the character codes (no Buffer needed).
  if (a >= 0x80 || b >= 0x80 || c >= 0x80) {
    const bytes = Buffer.from(secret.slice(0, 4), 'utf8').subarray(0, 3);
    return [bytes.toString('base64').slice(0, 4), bytes.toString('base64url').slice(0, 4)];
  }
  const sextets = [a >> 2, ((a & 3) << 4) | (b >> 4), ((b & 15) << 2) | (c >> 6), c & 63];
  return [sextets.map((i) => BASE64[i]).join(''), sextets.map((i) => BASE64URL[i]).join('')];
}
