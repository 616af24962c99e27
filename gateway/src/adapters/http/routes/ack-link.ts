/**
 * The acknowledge link in a notification (SMS, WeCom, DingTalk, e-mail): `/ack/{token}`, outside
 * /api/v1 and without a bearer token, because the signed, expiring token is the credential and a
 * building captain (栋长) opens it on a phone.
 *
 * GET never acknowledges: chat apps and mail scanners fetch every link to build a preview, and a
 * bot must not tell the escalation chain that someone is on the way. GET shows the alert and a
 * confirm button; the POST that button sends acknowledges (RFC 9110 §9.2.1: GET is safe).
 *
 * Links that are not ours (forged, truncated, garbled) count as failed attempts for the client
 * address on their own limiter with the bearer limits: past the limit every link answers 429, as
 * bearer tokens do. Expired links were ours, so they do not count.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Alert } from '../../../domain/alerts/types.js';
import { AckLinkError, AlertActionError } from '../../../ports.js';
import type { AuthFailureLimiter } from '../auth.js';
import type { RouteOptions } from '../context.js';
import type { HttpDeps } from '../deps.js';
import { ERROR_CATALOG, ErrorBody, errorBody, type ErrorCode } from '../errors.js';
import { IsoTime, Nullable, iso } from '../schemas.js';

export interface AckLinkRouteOptions extends RouteOptions {
  readonly limiter: AuthFailureLimiter;
}

export const ACK_LINK_PATH = '/ack/:token';

/**
 * Headers for every ack page: the URL is a credential, so no referrer carries it off, nothing
 * caches it, no search engine indexes it, and the page runs no script and posts only to itself.
 */
const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-robots-tag': 'noindex, nofollow',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

const LinkAlertView = Type.Object(
  {
    alertId: Type.String(),
    type: Type.String(),
    signalClass: Type.String(),
    title: Type.String(),
    titleZh: Type.String(),
    detail: Type.String(),
    building: Type.Object({ id: Type.String(), name: Nullable(Type.String()) }),
    floor: Nullable(Type.Integer()),
    state: Type.String(),
    raisedAt: IsoTime,
    acknowledgedAt: Nullable(IsoTime),
  },
  { title: 'AckLinkAlert' },
);

const PreviewView = Type.Object({ alert: LinkAlertView, expiresAt: IsoTime }, { title: 'AckLinkPreview' });
const ConfirmView = Type.Object(
  {
    alert: LinkAlertView,
    acknowledged: Type.Boolean(),
    alreadyAcknowledged: Type.Boolean({ description: 'True when someone had acknowledged it before this request' }),
  },
  { title: 'AckLinkConfirmation' },
);

const Html = Type.String({ description: 'A small page (中文 / English)' });
const pageResponse = (json: typeof PreviewView | typeof ConfirmView) => ({
  description: 'HTML by default; JSON when the request accepts application/json and not text/html',
  content: { 'text/html': { schema: Html }, 'application/json': { schema: json } },
});
const failureResponse = (description: string) => ({
  description,
  content: { 'text/html': { schema: Html }, 'application/json': { schema: ErrorBody } },
});

const TokenParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 2048 }) });

const ackResponses = (json: typeof PreviewView | typeof ConfirmView) => ({
  200: pageResponse(json),
  400: failureResponse('The link is malformed or not signed by this gateway (GW_ACK_LINK_INVALID)'),
  404: failureResponse('The alert no longer exists (GW_NOT_FOUND)'),
  409: failureResponse('The alert needs no acknowledgement now (GW_ALERT_TRANSITION)'),
  410: failureResponse('The link has expired (GW_ACK_LINK_EXPIRED)'),
  429: failureResponse('Too many invalid links from this address (GW_RATE_LIMITED)'),
  500: ErrorBody,
});

export const ackLinkRoutes: FastifyPluginAsyncTypebox<AckLinkRouteOptions> = async (app, { deps, limiter }) => {
  // The confirm button is an HTML form: browsers post it as application/x-www-form-urlencoded
  // (empty). Accepted here only; the API itself stays JSON-only.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 }, (_request, _body, done) => {
    done(null, {});
  });

  app.get(
    ACK_LINK_PATH,
    {
      schema: {
        tags: ['alerts'],
        summary: 'Acknowledge link from a notification: shows the alert and a confirm button; never acknowledges',
        produces: ['text/html', 'application/json'],
        params: TokenParams,
        response: ackResponses(PreviewView),
      },
    },
    async (request, reply) => {
      if (refuseWhenLimited(request, reply, limiter)) return reply;
      try {
        const preview = deps.alerts.previewAckLink(request.params.token);
        const alert = linkAlert(deps, preview.alert);
        if (wantsJson(request)) return sendJson(reply, 200, { alert, expiresAt: iso(preview.expiresAt) });
        return sendPage(reply, 200, previewPage(alert, preview.alert.acknowledgedAt !== null));
      } catch (err) {
        return sendFailure(request, reply, limiter, err);
      }
    },
  );

  app.post(
    ACK_LINK_PATH,
    {
      schema: {
        tags: ['alerts'],
        summary: 'Acknowledge link: acknowledges the alert as the person the link was sent to',
        produces: ['text/html', 'application/json'],
        params: TokenParams,
        response: ackResponses(ConfirmView),
      },
    },
    async (request, reply) => {
      if (refuseWhenLimited(request, reply, limiter)) return reply;
      const token = request.params.token;
      try {
        const alert = deps.alerts.acknowledgeByLink(token);
        return sendConfirmation(request, reply, linkAlert(deps, alert), false);
      } catch (err) {
        // A second tap, or a colleague was quicker: the goal is reached, say so instead of failing.
        if (err instanceof AlertActionError && err.code === 'invalid_transition') {
          const current = previewOrUndefined(deps, token);
          if (current !== undefined && current.acknowledgedAt !== null) {
            return sendConfirmation(request, reply, linkAlert(deps, current), true);
          }
        }
        return sendFailure(request, reply, limiter, err);
      }
    },
  );
};

function previewOrUndefined(deps: HttpDeps, token: string): Alert | undefined {
  try {
    return deps.alerts.previewAckLink(token).alert;
  } catch {
    return undefined;
  }
}

type LinkAlert = {
  alertId: string;
  type: string;
  signalClass: string;
  title: string;
  titleZh: string;
  detail: string;
  building: { id: string; name: string | null };
  floor: number | null;
  state: string;
  raisedAt: string;
  acknowledgedAt: string | null;
};

function linkAlert(deps: HttpDeps, a: Alert): LinkAlert {
  return {
    alertId: a.id,
    type: a.type,
    signalClass: a.signalClass,
    title: a.title,
    titleZh: a.titleZh,
    detail: a.detail,
    building: { id: a.source.buildingId, name: deps.site.building(a.source.buildingId)?.name ?? null },
    floor: a.source.floor,
    state: a.state,
    raisedAt: iso(a.raisedAt),
    acknowledgedAt: a.acknowledgedAt === null ? null : iso(a.acknowledgedAt),
  };
}

/** JSON only when asked for and HTML is not: a browser's Accept lists text/html first. */
function wantsJson(request: FastifyRequest): boolean {
  const accept = (request.headers.accept ?? '').toLowerCase();
  return accept.includes('application/json') && !accept.includes('text/html');
}

function refuseWhenLimited(request: FastifyRequest, reply: FastifyReply, limiter: AuthFailureLimiter): boolean {
  const waitMs = limiter.retryAfterMs(request.ip);
  if (waitMs === 0) return false;
  const seconds = Math.ceil(waitMs / 1000);
  void reply.header('retry-after', String(seconds));
  sendError(request, reply, 'GW_RATE_LIMITED', `Too many invalid acknowledge links from this address; retry in ${seconds} s`, {
    en: `Too many invalid links from this address. Try again in ${seconds} seconds.`,
    zh: `来自此地址的无效链接过多，请 ${seconds} 秒后再试。`,
  });
  return true;
}

function sendFailure(request: FastifyRequest, reply: FastifyReply, limiter: AuthFailureLimiter, err: unknown): FastifyReply {
  if (err instanceof AckLinkError) {
    if (err.reason === 'expired') {
      return sendError(request, reply, 'GW_ACK_LINK_EXPIRED', err.message, {
        en: 'This link has expired. Open the gridwatch console to acknowledge the alert.',
        zh: '此链接已过期，请在控制台中确认告警。',
      });
    }
    limiter.recordFailure(request.ip);
    return sendError(request, reply, 'GW_ACK_LINK_INVALID', err.message, {
      en: 'This link is not valid. Check that it was copied completely.',
      zh: '此链接无效，请检查链接是否完整。',
    });
  }
  if (err instanceof AlertActionError) {
    if (err.code === 'not_found') {
      return sendError(request, reply, 'GW_NOT_FOUND', err.message, { en: 'This alert no longer exists.', zh: '此告警已不存在。' });
    }
    if (err.code === 'invalid_transition') {
      return sendError(request, reply, 'GW_ALERT_TRANSITION', err.message, {
        en: 'This alert needs no acknowledgement now (it has been closed or reset).',
        zh: '此告警当前无需确认（已关闭或已复位）。',
      });
    }
    limiter.recordFailure(request.ip);
    return sendError(request, reply, 'GW_ACK_LINK_INVALID', err.message, {
      en: 'This link is not valid.',
      zh: '此链接无效。',
    });
  }
  throw err;
}

function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  code: ErrorCode,
  message: string,
  text: { en: string; zh: string },
): FastifyReply {
  const status = ERROR_CATALOG[code].status;
  if (wantsJson(request)) return sendJson(reply, status, errorBody(code, message));
  return sendPage(reply, status, page(text.zh, text.en, `<p class="muted">${escapeHtml(code)}</p>`));
}

function sendConfirmation(request: FastifyRequest, reply: FastifyReply, alert: LinkAlert, already: boolean): FastifyReply {
  if (wantsJson(request)) return sendJson(reply, 200, { alert, acknowledged: true, alreadyAcknowledged: already });
  const zh = already ? '此告警已有人确认' : '已确认，谢谢';
  const en = already ? 'Someone has already acknowledged this alert' : 'Acknowledged, thank you';
  const when = alert.acknowledgedAt === null ? '' : `<p class="muted">${escapeHtml(alert.acknowledgedAt)}</p>`;
  return sendPage(reply, 200, page(zh, en, `${summary(alert)}${when}`));
}

function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).headers(PAGE_HEADERS).type('application/json; charset=utf-8').send(body);
}

function sendPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.code(status).headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(html);
}

function previewPage(alert: LinkAlert, acknowledged: boolean): string {
  const body = acknowledged
    ? `${summary(alert)}<p><strong>已确认 · Already acknowledged</strong> <span class="muted">${escapeHtml(alert.acknowledgedAt ?? '')}</span></p>`
    : `${summary(alert)}
<form method="post">
  <button type="submit">确认告警 · Acknowledge</button>
</form>
<p class="muted">确认表示您已知悉并正在处理。Acknowledging tells the others you are on it.</p>`;
  return page(alert.titleZh, alert.title, body);
}

const CLASS_LABEL: Readonly<Record<string, string>> = {
  alarm: '火警/报警 · alarm',
  supervisory: '监管 · supervisory',
  trouble: '故障 · trouble',
  info: '信息 · info',
};

function summary(alert: LinkAlert): string {
  const where = [alert.building.name ?? alert.building.id, alert.floor === null ? null : `${alert.floor} 层 / floor ${alert.floor}`]
    .filter((x) => x !== null)
    .join(' · ');
  return `<dl>
  <dt>类别 · Class</dt><dd>${escapeHtml(CLASS_LABEL[alert.signalClass] ?? alert.signalClass)}</dd>
  <dt>位置 · Where</dt><dd>${escapeHtml(where)}</dd>
  <dt>详情 · Detail</dt><dd>${escapeHtml(alert.detail)}</dd>
  <dt>时间 · Raised</dt><dd>${escapeHtml(alert.raisedAt)}</dd>
</dl>`;
}

function page(titleZh: string, titleEn: string, body: string): string {
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${escapeHtml(titleZh)} · ${escapeHtml(titleEn)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:32rem;line-height:1.5}
h1{font-size:1.3rem;margin:0 0 .2rem}h2{font-size:1rem;font-weight:normal;margin:0 0 1rem;color:#444}
dt{font-weight:bold;margin-top:.5rem}dd{margin:0}
button{font-size:1.2rem;padding:.8rem 1.6rem;margin:1rem 0;background:#c62828;color:#fff;border:0;border-radius:.4rem}
.muted{color:#666;font-size:.9rem}
</style>
</head>
<body>
<h1>${escapeHtml(titleZh)}</h1>
<h2>${escapeHtml(titleEn)}</h2>
${body}
</body>
</html>
`;
}

/** Everything that reaches the page came from a device, a site file or an operator: escape it all. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
