/**
 * The HTTP API factory: registers OpenAPI docs, the auth hook, the error catalog and every route,
 * and returns the fastify instance without listening (the composition root listens; tests call
 * `inject()`).
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { AuthFailureLimiter, DEFAULT_AUTH_LIMITS, createAuthorizer, type AuthLimits } from './auth.js';
import type { RouteSummary } from './context.js';
import type { HttpDeps } from './deps.js';
import { ERROR_CATALOG, HttpError, errorBody, type ErrorCode } from './errors.js';
import { ACK_LINK_PATH, ackLinkRoutes } from './routes/ack-link.js';
import { alertRoutes } from './routes/alerts.js';
import { auditHook, auditRoutes } from './routes/audit.js';
import { CONSOLE_ASSET_PATH, consoleRoutes } from './routes/console.js';
import { deadLetterRoutes } from './routes/dead-letters.js';
import { deviceRoutes } from './routes/devices.js';
import { eventRoutes, type EventStreamOptions } from './routes/events.js';
import { hierarchyRoutes } from './routes/hierarchy.js';
import { kindRoutes } from './routes/kinds.js';
import { ruleRoutes } from './routes/rules.js';
import { caseRoutes } from './routes/cases.js';
import { kpiRoutes } from './routes/kpis.js';
import { meRoutes } from './routes/me.js';
import { reportRoutes } from './routes/reports.js';
import { systemRoutes } from './routes/system.js';
import { tokenRoutes } from './routes/tokens.js';

export const API_PREFIX = '/api/v1';

/**
 * The only routes that answer without a bearer token, by method and exact path. Every other
 * route must declare `config.roles` (the onRoute hook refuses to start otherwise): a route that
 * forgets its roles fails start-up instead of opening silently. /health and /metrics serve load
 * balancers and Prometheus; the ack link's signed token is its own credential. The docs UI under
 * `/docs` is the swagger-ui plugin's and is exempt by prefix.
 */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set([
  'GET /health',
  'GET /metrics',
  `GET ${ACK_LINK_PATH}`,
  `POST ${ACK_LINK_PATH}`,
  // The console page and its files hold no data: it calls /api/v1 with the token the user types.
  'GET /',
  `GET ${CONSOLE_ASSET_PATH}`,
]);

function isPublicRoute(method: string, url: string): boolean {
  return PUBLIC_ROUTES.has(`${method} ${url}`) || url === '/docs' || url.startsWith('/docs/');
}

export interface HttpAppOptions {
  logger?: boolean | object;
  trustProxy?: boolean;
  /** Failed-authentication limits per client address (default 10 per minute). */
  authLimits?: AuthLimits;
  /** GET /api/v1/events: heartbeat interval, per-connection queue bound, timer (tests inject one). */
  events?: EventStreamOptions;
}

/**
 * Secrets never reach the log: bearer tokens travel in the Authorization header and device
 * secrets / new tokens in response bodies. Bodies are not logged at all (fastify's default
 * request serializer omits them); these paths cover anything a handler logs by mistake.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'body',
  '*.body',
];

/** An acknowledge link's path is a credential: the request log shows `/ack/[redacted]`. */
export function redactUrl(url: string): string {
  return url.replace(/^\/ack\/[^?#]*/, '/ack/[redacted]');
}

function loggerOption(logger: boolean | object | undefined): boolean | object {
  if (logger === undefined || logger === false) return false;
  const base = logger === true ? { level: 'info' } : (logger as Record<string, unknown>);
  const serializers = {
    // fastify's own request serializer, with the URL redacted.
    req: (req: { method: string; url: string; host?: string; ip?: string; socket?: { remotePort?: number } }) => ({
      method: req.method,
      url: redactUrl(req.url),
      host: req.host,
      remoteAddress: req.ip,
      remotePort: req.socket?.remotePort,
    }),
    ...((base.serializers as object | undefined) ?? {}),
  };
  return { ...base, serializers, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
}

const TAGS = [
  { name: 'system', description: 'Health and metrics (no token)' },
  { name: 'kinds', description: 'Sensor kinds: payload schemas, examples and topics' },
  { name: 'devices', description: 'Device registration, live state, readings and events' },
  { name: 'hierarchy', description: 'Streets (街道), communities (社区), grids (网格), buildings and people' },
  { name: 'alerts', description: 'Alerts (告警): list, history, acknowledge, shelve, disable (屏蔽), reset; the acknowledge link' },
  { name: 'rules', description: 'Rule settings per device and building overrides' },
  { name: 'dead letters', description: 'Messages the ingest pipeline refused, with the reason' },
  { name: 'tokens', description: 'API tokens (admin)' },
  { name: 'events', description: 'Live events (Server-Sent Events): alerts, device status, cases' },
  { name: 'audit', description: 'Audit log: who did what (admin)' },
  { name: 'console', description: 'The web console page and its files (no token)' },
];

export async function buildHttpApp(deps: HttpDeps, options: HttpAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOption(options.logger),
    trustProxy: options.trustProxy ?? false,
    // API bodies are small JSON documents; a large one is a mistake or an attack.
    bodyLimit: 64 * 1024,
    exposeHeadRoutes: false,
    // Errors the router raises before any route (an undecodable URL, an over-long path parameter)
    // bypass setErrorHandler: answer them in the catalog's shape too.
    frameworkErrors: (err, _request, reply) => {
      const code: ErrorCode = err.statusCode === 414 ? 'GW_BAD_REQUEST' : codeForFastifyError(err);
      const raw = reply as unknown as { code(status: number): { send(body: unknown): unknown } };
      raw.code(err.statusCode ?? ERROR_CATALOG[code].status).send(errorBody(code, err.message));
    },
    ajv: {
      // Refuse unknown body fields instead of silently dropping them (fastify's default strips).
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // The API speaks JSON only: a text/plain body is a client mistake (415), not a string to validate.
  app.removeContentTypeParser('text/plain');

  const routes: RouteSummary[] = [];
  app.decorate('gridwatchRoutes', routes);
  app.decorateRequest('auth', null);

  // Route contract, checked as each route is added so a bad route fails start-up, not a request:
  // every /api/v1 route names its roles, and every documented route has a response schema.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const roles = route.config?.roles;
    const hidden = (route.schema as { hide?: boolean } | undefined)?.hide === true;
    const hasResponseSchema = route.schema?.response !== undefined;
    for (const method of methods) routes.push({ method, url: route.url, roles, hasResponseSchema });
    if ((roles === undefined || roles.length === 0) && !methods.every((m) => isPublicRoute(m, route.url))) {
      throw new Error(`route ${methods.join(',')} ${route.url} must declare config.roles`);
    }
    if (!hidden && !hasResponseSchema) {
      throw new Error(`route ${methods.join(',')} ${route.url} must declare response schemas`);
    }
    if (roles !== undefined && route.schema !== undefined) {
      // OpenAPI: say which scheme and which roles, next to the route's own description.
      const schema = route.schema as Record<string, unknown>;
      schema.security = [{ bearerAuth: [] }];
      const note = `Roles: ${roles.join(', ')}.`;
      schema.description = typeof schema.description === 'string' ? `${schema.description}\n\n${note}` : note;
    }
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'gridwatch API',
        version: 'v1',
        description:
          'Building hazard monitoring gateway. Errors are `{ error: { code, message, details? } }` with codes from the catalog in the README.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
      tags: TAGS,
    },
  });
  // Served from the package's own files: the docs work on a site with no internet access.
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const limiter = new AuthFailureLimiter(deps.clock, options.authLimits ?? DEFAULT_AUTH_LIMITS);
  // Ack links have their own limiter with the same limits: a captain mistyping a link on the
  // phone must not lock the console on the same office network out of the API, and the reverse.
  const ackLimiter = new AuthFailureLimiter(deps.clock, options.authLimits ?? DEFAULT_AUTH_LIMITS);
  const authorizer = createAuthorizer(deps, limiter);
  // onRequest runs before the body is parsed and validated: an anonymous caller gets 401, not
  // a schema lecture.
  app.addHook('onRequest', async (request) => {
    const roles = request.routeOptions.config.roles;
    if (roles === undefined) return;
    request.auth = authorizer.authorize(request, roles);
  });
  // After the answer: mutating /api/v1 requests and refused authentications go to the audit log.
  app.addHook('onResponse', auditHook(deps, API_PREFIX));

  app.setErrorHandler((err: FastifyError | HttpError, request, reply) => {
    if (err instanceof HttpError) {
      for (const [name, value] of Object.entries(err.headers)) void reply.header(name, value);
      return reply.code(err.statusCode).send(errorBody(err.code, err.message, err.details));
    }
    if (err.validation !== undefined) {
      const where = err.validationContext ?? 'request';
      const details = err.validation.map((v) => ({
        path: `/${where}${v.instancePath}`,
        message: v.message ?? 'invalid',
        ...(v.params === undefined ? {} : { params: v.params }),
      }));
      return reply.code(400).send(errorBody('GW_VALIDATION', err.message, details));
    }
    const code = codeForFastifyError(err);
    if (code === 'GW_INTERNAL') {
      request.log.error({ err }, 'unhandled error in route');
      return reply.code(500).send(errorBody('GW_INTERNAL'));
    }
    return reply.code(ERROR_CATALOG[code].status).send(errorBody(code, err.message));
  });

  app.setNotFoundHandler((request, reply) => {
    const url = request.url.length > 200 ? `${request.url.slice(0, 200)}…` : request.url;
    return reply.code(404).send(errorBody('GW_NOT_FOUND', `Route ${request.method} ${url} not found`));
  });

  await app.register(systemRoutes, { deps });
  await app.register(ackLinkRoutes, { deps, limiter: ackLimiter });
  await app.register(consoleRoutes);
  await app.register(
    async (api) => {
      await api.register(kindRoutes, { deps });
      await api.register(deviceRoutes, { deps });
      await api.register(hierarchyRoutes, { deps });
      await api.register(deadLetterRoutes, { deps });
      await api.register(tokenRoutes, { deps });
      await api.register(alertRoutes, { deps });
      await api.register(ruleRoutes, { deps });
      await api.register(caseRoutes, { deps });
      await api.register(kpiRoutes, { deps });
      await api.register(reportRoutes, { deps });
      await api.register(eventRoutes, { deps, ...(options.events === undefined ? {} : { stream: options.events }) });
      await api.register(auditRoutes, { deps });
      await api.register(meRoutes, { deps });
    },
    { prefix: API_PREFIX },
  );

  return app;
}

/** fastify's own client errors (body parsing, content type) mapped onto the catalog. */
function codeForFastifyError(err: FastifyError): ErrorCode {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'GW_PAYLOAD_TOO_LARGE';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'GW_UNSUPPORTED_MEDIA_TYPE';
    default:
      break;
  }
  const status = err.statusCode ?? 500;
  if (status === 404) return 'GW_NOT_FOUND';
  if (status === 413) return 'GW_PAYLOAD_TOO_LARGE';
  if (status === 415) return 'GW_UNSUPPORTED_MEDIA_TYPE';
  if (status >= 400 && status < 500) return 'GW_BAD_REQUEST';
  return 'GW_INTERNAL';
}
