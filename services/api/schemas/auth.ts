/** HTTP request and response schemas for login, users and API tokens (request and response kept apart). */
import { z } from 'zod';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, ROLES, USERNAME_PATTERN } from '../../auth/model.js';
import { STREETS } from '../../devices/model.js';
import { ID_PATTERN } from '../../devices/registry.js';

const username = z.string().regex(USERNAME_PATTERN, '3–64 letters, digits, _ . or -');
const password = z.string().min(PASSWORD_MIN_LENGTH).max(PASSWORD_MAX_LENGTH);
const role = z.enum(ROLES);
const streets = z
  .array(z.enum(STREETS))
  .min(1)
  .max(STREETS.length)
  .nullable()
  .describe('duty role only: the streets covered; null = all streets');
const buildingIds = z
  .array(z.string().regex(ID_PATTERN))
  .max(1000)
  .describe('operator role only: the buildings this user manages');
const displayName = z.string().trim().min(1).max(100);

// ── requests ──────────────────────────────────────────────────────────────────
/** Lenient on purpose: a malformed username gets the same 401 as a wrong one, not a 400 that tells them apart. */
export const LoginBody = z.object({
  username: z.string().min(1).max(256),
  password: z.string().min(1).max(PASSWORD_MAX_LENGTH),
});

export const UserBody = z.object({
  username,
  password,
  role,
  displayName: displayName.optional(),
  streets: streets.optional(),
  buildingIds: buildingIds.optional(),
  disabled: z.boolean().optional(),
});

export const UserPatchBody = z
  .object({ password, role, displayName, streets, buildingIds, disabled: z.boolean() })
  .partial()
  .refine((o) => Object.keys(o).length > 0, { message: 'nothing to change' });

export const TokenBody = z.object({
  name: z.string().trim().min(1).max(100),
  role: z.enum(['duty', 'operator', 'platform']).describe('no admin tokens: ADMIN_TOKEN is the admin credential'),
  streets: streets.optional(),
  buildingIds: buildingIds.optional(),
  expiresAt: z.iso.datetime({ offset: true }).nullable().optional(),
});

export const AuthIdParams = z.object({ id: z.string().min(1).max(64) });

// ── responses ─────────────────────────────────────────────────────────────────
export const User = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  role,
  streets: z.array(z.string()).nullable(),
  buildingIds: z.array(z.string()),
  disabled: z.boolean(),
  createdAt: z.string(),
});

export const LoginResponse = z.object({
  token: z.string().describe('send as `Authorization: Bearer <token>`'),
  expiresAt: z.string(),
  user: User,
});

export const Principal = z.object({
  id: z.string(),
  kind: z.enum(['admin_token', 'user', 'api_token']),
  username: z.string(),
  displayName: z.string(),
  role,
  streets: z.array(z.string()).nullable(),
  buildingIds: z.array(z.string()).nullable(),
});

export const ApiToken = z.object({
  id: z.string(),
  name: z.string(),
  role,
  streets: z.array(z.string()).nullable(),
  buildingIds: z.array(z.string()),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
});

export const CreatedApiToken = ApiToken.extend({ token: z.string().describe('shown once; store it now') });

export const UserList = z.object({ items: z.array(User) });
export const ApiTokenList = z.object({ items: z.array(ApiToken) });
