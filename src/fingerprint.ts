// A non-cryptographic 64-bit fingerprint (two FNV-1a lanes) for file names derived from nothing secret: a ledger
// after its config's path, a cached ECR token after its access key ID, region and endpoint, the launcher's compiled
// code after Node's version, the agent file and the command. SHA-256 would load node:crypto (a fifth of a cached
// run's start-up) for names that hide nothing. Anything derived from a secret uses src/sha256.ts.

/** 16 hex digits fingerprinting text. */
export function fingerprint64(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ (c * 31 + i), 0x01000193) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}
