// The reader's language for labels: Accept-Language, else DEFAULT_LANGUAGE.
// Answers that carry labels vary by that header (Vary: Accept-Language) and
// say which language they are in (Content-Language).
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Nullable } from './schemas';
import { isLanguage, labelsFor, pickLanguage, type Labels } from '../domain/i18n';

export function requestLabels(req: FastifyRequest, reply?: FastifyReply): Labels {
  const configured = req.server.deps.config.defaultLanguage;
  const lang = pickLanguage(req.headers['accept-language'], isLanguage(configured) ? configured : 'ja');
  if (reply) reply.header('content-language', lang).header('vary', 'Accept-Language');
  return labelsFor(lang);
}

/** Labels of a send's codes, beside the codes (which never change). */
export const SendLabels = Type.Object(
  {
    result: Nullable(Type.String({ description: '送信結果, e.g. 到達 / delivered' })),
    detail: Nullable(
      Type.String({
        description: '結果詳細 in the language asked (a reply text we have no translation for as stored)',
      }),
    ),
    codeMeaning: Nullable(Type.String({ description: "the delivery code's meaning (メール配信コード一覧)" })),
    codeRemedy: Nullable(Type.String({ description: "the manual's remedy for the code (対処方法)" })),
    errorType: Nullable(Type.String()),
    errorReason: Nullable(Type.String()),
    ignoredError: Type.Optional(
      Nullable(
        Type.String({
          description: 'reason 25 when the send ignored errors: 無視されたエラー / ignored error',
        }),
      ),
    ),
  },
  { description: 'labels in the language of Accept-Language (ja or en; DEFAULT_LANGUAGE otherwise)' },
);

export function sendLabels(
  s: {
    result: string;
    detail: string | null;
    code: number | null;
    error_type: string | null;
    error_reason: string | null;
    ignored_error?: boolean;
  },
  t: Labels,
): Static<typeof SendLabels> {
  return {
    result: t.result(s.result),
    detail: t.detail(s.detail),
    codeMeaning: t.codeMeaning(s.code),
    codeRemedy: t.codeRemedy(s.code),
    errorType: t.errorType(s.error_type),
    errorReason: t.errorReason(s.error_reason),
    ignoredError: s.ignored_error === true ? t.errorReason('ignored_error') : null,
  };
}
