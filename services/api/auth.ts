/**
 * The HTTP side of authentication: reading the bearer token. Principals, roles, sessions and
 * API tokens live in services/auth.
 */
export type { Principal, PrincipalKind, Role, TokenAuthenticator } from '../auth/model.js';

export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  return m?.[1];
}
