// The operator console's files (built by scripts/build-console.mjs into
// dist/console) served by the API itself at `/` and `/console/*`: the page,
// one script, one stylesheet and their source maps. Public, like /docs: the
// files hold no data; every figure the console shows comes from the /v1 API
// under the same authentication as any client. A strict Content-Security-Policy
// keeps the page to its own origin (no CDN, no outside host).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { routesPlugin } from '../plugins/named-plugin';

export const CONSOLE_DIR = join(__dirname, '..', '..', 'dist', 'console');

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const FILES: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.js.map': 'application/json; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'app.css.map': 'application/json; charset=utf-8',
};

async function sendFile(reply: FastifyReply, name: string, type: string) {
  let body: Buffer;
  try {
    body = await readFile(join(CONSOLE_DIR, name));
  } catch {
    return reply
      .status(503)
      .type('text/plain; charset=utf-8')
      .send('The console is not built: run `npm install` (or `node scripts/build-console.mjs`).');
  }
  return reply
    .type(type)
    .header('cache-control', 'no-cache')
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .send(body);
}

export const consoleRoutes: FastifyPluginAsync = routesPlugin({ name: 'console-routes' }, async (app) => {
  app.get('/', { config: { public: true }, schema: { hide: true } }, async (req, reply) => {
    // Only the page's own address: the router also hands `/` odd request targets such as `*`.
    if (!req.url.startsWith('/'))
      return reply
        .status(400)
        .send({ statusCode: 400, error: 'Bad Request', message: `no page at ${req.url}` });
    return sendFile(reply, 'index.html', 'text/html; charset=utf-8');
  });
  app.get<{ Params: { file: string } }>(
    '/console/:file',
    { config: { public: true }, schema: { hide: true } },
    async (req, reply) => {
      const type = FILES[req.params.file];
      if (!type)
        return reply.status(404).send({
          statusCode: 404,
          error: 'Not Found',
          message: `no console file ${req.params.file}`,
        });
      return sendFile(reply, req.params.file, type);
    },
  );
});
