/**
 * Bearer-token authentication for the HTTP API. Issue #2 has one principal, the admin (token from
 * ADMIN_TOKEN, or generated on first start; only its SHA-256 digest is kept). Users, roles and
 * scoped API tokens extend `resolve()` (issue #3).
 */
import { constantTimeEqualHex, sha256 } from '../devices/credentials.js';

export type Role = 'admin' | 'duty' | 'operator' | 'platform';

export interface Principal {
  id: string;
  role: Role;
}

export interface TokenAuthenticator {
  resolve(token: string): Principal | undefined;
}

export class AdminTokenAuthenticator implements TokenAuthenticator {
  constructor(private readonly adminTokenSha256: string) {}

  resolve(token: string): Principal | undefined {
    return constantTimeEqualHex(sha256(token), this.adminTokenSha256) ? { id: 'admin', role: 'admin' } : undefined;
  }
}

export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  return m?.[1];
}
