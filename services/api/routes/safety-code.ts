/**
 * The building fire-safety code (消防安全码):
 *   GET /api/v1/buildings/:id/safety-code[.svg|.png]   any role that may read the building
 *   GET /s/:publicId                                   public page (no auth), what the QR code opens
 *   GET /api/public/safety-code/:publicId              the same as JSON (no auth)
 * The public answers carry the name, street, colour, reasons and counts only: no building id,
 * address, contact, phone, device or credential.
 */
import QRCode from 'qrcode';
import type { FastifyRequest } from 'fastify';
import type { BuildingSafetyCode, SafetyCodeService } from '../../safety-code/safety-code-service.js';
import { publicPagePath } from '../../safety-code/safety-code-service.js';
import { ROLES } from '../../auth/model.js';
import { canReadBuilding } from '../../auth/scope.js';
import type { DeviceRegistry } from '../../devices/registry.js';
import { NotFoundError } from '../../shared/errors.js';
import { principalOf } from '../authenticated.js';
import type { Api } from '../types.js';
import { IdParams } from '../schemas/registry.js';
import { PublicIdParams, PublicSafetyCodeSchema, QrQuery, SafetyCodeSchema } from '../schemas/safety-code.js';
import { renderNotFoundPage, renderSafetyCodePage } from './safety-code-page.js';

export interface SafetyCodeRouteOptions {
  registry: DeviceRegistry;
  safetyCodes: SafetyCodeService;
  /** PUBLIC_BASE_URL; when unset, the request's own scheme and host */
  publicBaseUrl?: string | undefined;
}

function baseUrl(req: FastifyRequest, configured: string | undefined): string {
  return (configured ?? `${req.protocol}://${req.host}`).replace(/\/+$/, '');
}

const publicView = (c: BuildingSafetyCode) => ({ name: c.name, street: c.street, status: c.status, reasons: c.reasons, counts: c.counts, updatedAt: c.updatedAt });

/** Authenticated routes, registered under /api/v1: any role that may read the building. */
export async function safetyCodeRoutes(app: Api, deps: SafetyCodeRouteOptions): Promise<void> {
  const tags = ['safety code'];
  const config = { roles: ROLES };
  const codeFor = (req: FastifyRequest<{ Params: { id: string } }>) => {
    const b = deps.registry.getBuilding(req.params.id);
    if (!canReadBuilding(principalOf(req), b)) throw new NotFoundError('building', req.params.id);
    const code = deps.safetyCodes.forBuilding(b);
    return { ...code, publicUrl: `${baseUrl(req, deps.publicBaseUrl)}${publicPagePath(code.publicId)}` };
  };

  app.get(
    '/buildings/:id/safety-code',
    {
      config,
      schema: {
        tags,
        description:
          'The building\'s fire-safety code with the reasons: red (fire evidence, a critical hazard, a hazard not answered in time), ' +
          'yellow (a hazard being dealt with or minor, faults, devices offline > SAFETY_CODE_OFFLINE_H, maintenance, unrectified survey hazards, required monitoring missing), ' +
          'grey (no device has ever reported; the reason says whether the district plan requires monitoring) or green.',
        params: IdParams,
        response: { 200: SafetyCodeSchema },
      },
    },
    async (req) => codeFor(req),
  );

  app.get(
    '/buildings/:id/safety-code.svg',
    { config, schema: { tags, description: 'QR code (SVG) of the public page\'s URL.', params: IdParams } },
    async (req, reply) => {
      const { publicUrl } = codeFor(req);
      const svg = await QRCode.toString(publicUrl, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      return reply.type('image/svg+xml; charset=utf-8').header('cache-control', 'private, max-age=300').send(svg);
    },
  );

  app.get(
    '/buildings/:id/safety-code.png',
    { config, schema: { tags, description: 'QR code (PNG) of the public page\'s URL.', params: IdParams, querystring: QrQuery } },
    async (req, reply) => {
      const { publicUrl } = codeFor(req);
      const png = await QRCode.toBuffer(publicUrl, { type: 'png', errorCorrectionLevel: 'M', margin: 2, width: req.query.size });
      return reply.type('image/png').header('cache-control', 'private, max-age=300').send(png);
    },
  );
}

export type PublicSafetyCodeRouteOptions = Pick<SafetyCodeRouteOptions, 'safetyCodes'>;

/** Public routes (no token): registered at the root. */
export async function publicSafetyCodeRoutes(app: Api, deps: PublicSafetyCodeRouteOptions): Promise<void> {
  const tags = ['public'];
  const noStore = { 'cache-control': 'no-store', 'x-robots-tag': 'noindex', 'referrer-policy': 'no-referrer' };

  app.get(
    '/api/public/safety-code/:publicId',
    {
      schema: {
        tags,
        security: [],
        description: 'A building\'s fire-safety code for the public: name, street, colour and reasons only.',
        params: PublicIdParams,
        response: { 200: PublicSafetyCodeSchema },
      },
    },
    async (req, reply) => {
      const b = deps.safetyCodes.resolvePublicId(req.params.publicId);
      if (!b) throw new NotFoundError('safety code', req.params.publicId);
      return reply.headers(noStore).send(publicView(deps.safetyCodes.forBuilding(b)));
    },
  );

  app.get(
    '/s/:publicId',
    { schema: { tags, security: [], description: 'The public safety-code page (HTML, Chinese first).', params: PublicIdParams } },
    async (req, reply) => {
      const b = deps.safetyCodes.resolvePublicId(req.params.publicId);
      reply
        .headers(noStore)
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
        .type('text/html; charset=utf-8');
      if (!b) return reply.code(404).send(renderNotFoundPage());
      return reply.send(renderSafetyCodePage(publicView(deps.safetyCodes.forBuilding(b)), deps.safetyCodes.bounds));
    },
  );
}
