/**
 * The web console: `GET /` answers the page, `GET /console/:file` its scripts and styles, all from
 * `../console/` (plain files, no build step, nothing fetched from the internet). The page holds no
 * data; everything it shows comes from /api/v1 with the token the user typed in, so these routes
 * need no token (they are listed in PUBLIC_ROUTES).
 *
 * Files are read once at start-up into memory (a fixed set: a request can never name a path
 * outside the folder) and served with an ETag and `Cache-Control: no-cache`, so a browser
 * revalidates (304) and an upgraded gateway's console is picked up at once. The CSP allows
 * scripts, styles and connections from this origin only: no inline script can run.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorBody, HttpError } from '../errors.js';

export const CONSOLE_DIR = fileURLToPath(new URL('../console/', import.meta.url));
export const CONSOLE_ASSET_PATH = '/console/:file';

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
};

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

/** Every servable file of the console folder, by name (README.md and anything unknown stay out). */
export function loadConsoleAssets(dir: string = CONSOLE_DIR): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[path.extname(name)];
    if (type === undefined || !/^[a-z0-9][a-z0-9.-]*$/.test(name)) continue;
    const body = readFileSync(path.join(dir, name));
    assets.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  return assets;
}

function send(request: FastifyRequest, reply: FastifyReply, asset: Asset) {
  void reply
    .header('cache-control', 'no-cache')
    .header('etag', asset.etag)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer');
  if (asset.type.startsWith('text/html')) void reply.header('content-security-policy', CONSOLE_CSP).header('x-frame-options', 'DENY');
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  return reply.type(asset.type).send(asset.body);
}

export const consoleRoutes: FastifyPluginAsyncTypebox<{ dir?: string }> = async (app, { dir }) => {
  const assets = loadConsoleAssets(dir);
  const index = assets.get('index.html');
  if (index === undefined) throw new Error(`the console has no index.html in ${dir ?? CONSOLE_DIR}`);
  const fileResponses = {
    200: Type.String({ description: 'The file' }),
    304: Type.Null({ description: 'Not modified (If-None-Match matched the ETag)' }),
  };

  app.get(
    '/',
    { schema: { tags: ['console'], summary: 'The web console (中文 / English)', produces: ['text/html'], response: fileResponses } },
    async (request, reply) => send(request, reply, index),
  );

  app.get(
    CONSOLE_ASSET_PATH,
    {
      schema: {
        tags: ['console'],
        summary: "The console's scripts and styles",
        params: Type.Object({ file: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { ...fileResponses, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const asset = assets.get(request.params.file);
      if (asset === undefined || request.params.file === 'index.html') throw new HttpError('GW_NOT_FOUND', 'No such console file');
      return send(request, reply, asset);
    },
  );
};
