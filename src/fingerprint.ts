// A fast, non-cryptographic 64-bit fingerprint (two FNV-1a lanes) for naming files: a ledger after its config's path,
// a cached ECR token after the identity that got it. It loads nothing (node:crypto costs ~3.5 ms of every start that
// touches it). Where an input holds a secret, nothing short of guessing the whole secret leads back from 64 bits to it;
// where a fingerprint must resist a forger (recognising entries registry-login wrote), SHA-256 is used instead.

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
