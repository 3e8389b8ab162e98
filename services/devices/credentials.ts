/**
 * Secrets: people's passwords are stored as scrypt hashes (a slow, memory-hard KDF in Node's own
 * crypto, so no native dependency) and compared in constant time. API tokens (256 random bits) and
 * device secrets (192 random bits, always generated here) are stored as SHA-256 digests: there is
 * nothing to brute-force, and a check costs microseconds, so a reconnecting fleet or a flood of bad
 * CONNECTs costs no CPU worth speaking of (docs/adr/0007-device-credential-hashing.md). Device
 * credentials from before that decision are `scrypt$…`; they keep working and are upgraded on the
 * device's next good CONNECT.
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const N = 16384;
const R = 8;
const P = 1;
const KEY_LEN = 32;

function scrypt(secret: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(secret, salt, KEY_LEN, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** `scrypt$N$r$p$salt$hash`, base64url parts. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(secret, salt, { N, r: R, p: P, maxmem: 64 * 1024 * 1024 });
  return ['scrypt', N, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, saltB64, keyB64] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(keyB64, 'base64url');
  const key = await scrypt(secret, Buffer.from(saltB64, 'base64url'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 64 * 1024 * 1024,
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

const FAST_PREFIX = 'sha256$';

/** `sha256$<digest>` (base64url): a device secret's stored form. Only for secrets generateSecret made. */
export function hashGeneratedSecret(secret: string): string {
  return `${FAST_PREFIX}${createHash('sha256').update(secret, 'utf8').digest('base64url')}`;
}

/** Whether a stored device credential is the fast form (else a legacy scrypt hash). */
export function isFastHash(stored: string): boolean {
  return stored.startsWith(FAST_PREFIX);
}

/** Constant-time check of a secret against its `sha256$…` form; false for any other form. */
export function verifyGeneratedSecret(secret: string, stored: string): boolean {
  if (!isFastHash(stored)) return false;
  const expected = Buffer.from(stored.slice(FAST_PREFIX.length), 'base64url');
  const actual = createHash('sha256').update(secret, 'utf8').digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** A device secret (24 random bytes, 192 bits) or an API token (32), URL-safe. */
export function generateSecret(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function constantTimeEqualHex(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'hex');
  const bb = Buffer.from(b, 'hex');
  return ba.length === bb.length && ba.length > 0 && timingSafeEqual(ba, bb);
}

/**
 * Remembers, in memory only, that a (device, secret) pair passed the slow check of a legacy scrypt
 * hash, for as long as that hash could not be upgraded to the fast form (the write failed). The
 * memo is an HMAC-like digest keyed with a per-process random pepper; it is dropped when the
 * credential rotates or is upgraded.
 */
export class VerifiedSecretCache {
  private readonly pepper = randomBytes(32).toString('hex');
  private readonly byId = new Map<string, { storedHash: string; digest: string }>();

  private digest(id: string, secret: string): string {
    return createHash('sha256').update(this.pepper).update('\0').update(id).update('\0').update(secret).digest('hex');
  }

  has(id: string, secret: string, storedHash: string): boolean {
    const hit = this.byId.get(id);
    return hit !== undefined && hit.storedHash === storedHash && constantTimeEqualHex(hit.digest, this.digest(id, secret));
  }

  remember(id: string, secret: string, storedHash: string): void {
    this.byId.set(id, { storedHash, digest: this.digest(id, secret) });
  }

  forget(id: string): void {
    this.byId.delete(id);
  }
}
