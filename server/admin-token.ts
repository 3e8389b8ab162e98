/**
 * The admin API token. With ADMIN_TOKEN set, its SHA-256 is what the service checks. Without it,
 * the digest stored at an earlier start is used, or a token is generated: it is stored (as its
 * digest only) and shown once, but only once the service is up, so a start that fails (a port in
 * use) does not burn the one chance to see it.
 */
import type { SyncSettingsStore } from '../services/shared/settings.js';
import { generateSecret, sha256 } from '../services/devices/credentials.js';

const ADMIN_TOKEN_KEY = 'admin_token_sha256';

export interface AdminToken {
  /** SHA-256 (hex) of the admin token */
  readonly digest: string;
  /** store a generated token's digest and show the token, once; nothing when none was generated */
  announce(show: (text: string) => void): void;
}

export function adminToken(configured: string | undefined, settings: SyncSettingsStore): AdminToken {
  if (configured) return { digest: sha256(configured), announce: () => undefined };
  const stored = settings.get(ADMIN_TOKEN_KEY);
  if (stored) return { digest: stored, announce: () => undefined };
  const token = generateSecret(32);
  const digest = sha256(token);
  let shown = false;
  return {
    digest,
    announce: (show) => {
      if (shown) return;
      shown = true;
      settings.set(ADMIN_TOKEN_KEY, digest);
      show(
        `\n  管理员令牌 / Admin API token (shown once, only its hash is stored):\n\n    ${token}\n\n` +
          `  Use it as "Authorization: Bearer <token>". Set ADMIN_TOKEN to choose your own.\n\n`,
      );
    },
  };
}
