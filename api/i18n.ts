// The reader's language for labels: Accept-Language, else DEFAULT_LANGUAGE.
// Answers that carry labels vary by that header (Vary: Accept-Language) and
// say which language they are in (Content-Language).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isLanguage, labelsFor, pickLanguage, type Labels } from '../domain/i18n';

export function requestLabels(req: FastifyRequest, reply?: FastifyReply): Labels {
  const configured = req.server.deps.config.defaultLanguage;
  const lang = pickLanguage(req.headers['accept-language'], isLanguage(configured) ? configured : 'ja');
  if (reply) reply.header('content-language', lang).header('vary', 'Accept-Language');
  return labelsFor(lang);
}
