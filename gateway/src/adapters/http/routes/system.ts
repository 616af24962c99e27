/**
 * /health and /metrics live outside /api/v1 and need no token: load balancers, systemd watchdogs
 * and Prometheus scrape them without credentials.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { RouteOptions } from '../context.js';
import { ErrorBody } from '../errors.js';

const HealthCheckView = Type.Object(
  { ok: Type.Boolean(), detail: Type.String() },
  { additionalProperties: true, title: 'HealthCheck' },
);
const HealthReportView = Type.Object(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('down')]),
    checks: Type.Record(Type.String(), HealthCheckView),
  },
  { title: 'HealthReport' },
);

/** Prometheus text exposition format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export const systemRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { deps }) => {
  app.get(
    '/health',
    {
      schema: {
        tags: ['system'],
        summary: 'Health of the gateway and its parts: 200 when ok or degraded, 503 when down',
        response: { 200: HealthReportView, 503: HealthReportView, 500: ErrorBody },
      },
    },
    async (_request, reply) => {
      const report = deps.health();
      return reply.code(report.status === 'down' ? 503 : 200).send(report);
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['system'],
        summary: 'Prometheus metrics (text exposition format 0.0.4)',
        produces: ['text/plain'],
        response: {
          200: Type.String({ description: 'Prometheus text exposition format' }),
          500: ErrorBody,
        },
      },
    },
    async (_request, reply) => {
      const text = await deps.metricsText();
      return reply.type(PROMETHEUS_CONTENT_TYPE).send(text);
    },
  );
};
