/** /healthz (process up), /readyz (broker, reading log, storage, processors, stores; backlogs), /metrics (Prometheus). */
import { z } from 'zod';
import type { Api, ApiDeps, ReadinessCheck } from '../types.js';

export type { ReadinessCheck } from '../types.js';

export interface HealthRouteOptions {
  readiness: ReadinessCheck[];
  metrics: ApiDeps['metrics'];
  sinkStatus?: ApiDeps['sinkStatus'] | undefined;
}

/** Public (no token): what liveness and readiness probes and a Prometheus scrape call. */
export async function healthRoutes(app: Api, deps: HealthRouteOptions): Promise<void> {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get(
    '/readyz',
    {
      schema: {
        description: 'Ready when the broker listens, the reading log and the database accept writes, the processors keep up and every store answers; shows backlogs and, while storage fails, the reason.',
        security: [],
        response: {
          200: z.object({ ready: z.boolean(), checks: z.record(z.string(), z.object({ ready: z.boolean() }).loose()) }),
          503: z.object({ ready: z.boolean(), checks: z.record(z.string(), z.object({ ready: z.boolean() }).loose()) }),
        },
      },
    },
    async (_req, reply) => {
      const checks: Record<string, { ready: boolean } & Record<string, unknown>> = {};
      for (const c of deps.readiness) {
        try {
          const r = await c.check();
          checks[c.name] = { ready: r.ready, ...(r.detail ?? {}) };
        } catch (err) {
          checks[c.name] = { ready: false, error: err instanceof Error ? err.message : String(err) };
        }
      }
      const ready = Object.values(checks).every((c) => c.ready);
      return reply.code(ready ? 200 : 503).send({ ready, checks });
    },
  );

  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    const s = deps.sinkStatus?.();
    if (s) {
      deps.metrics.sinkBacklog.set({ sink: s.name }, s.backlog);
      deps.metrics.sinkBacklogAge.set({ sink: s.name }, s.backlogAgeS);
    }
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
}
