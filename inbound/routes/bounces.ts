// POST /v1/inbound/bounces: for deployments whose MTA pipes bounce-domain mail
// to a command (e.g. curl --data-binary @- -H 'content-type: message/rfc822').
// Whatever the content, a non-empty message is stored and answered 202, so
// the MTA does not retry bad input forever; the body says what became of it.
//
// A Fastify plugin that api/app.ts registers, handing in what the pipeline
// needs (inbound/ sits below api/ and imports nothing from it).
import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ApiError, ErrorBody } from '../../domain/http-error';
import { processInboundReport, type InboundDeps } from '../process-report';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

const InboundResult = Type.Object(
  {
    id: Nullable(Type.String({ description: 'stored report id; null for a duplicate' })),
    duplicate: Type.Boolean({ description: 'the same message was stored before; nothing was done' }),
    kind: Type.String({ description: 'dsn | arf | auto-reply | other | unparseable | truncated' }),
    status: Type.String({ description: 'pending (matched, being applied) | ignored | unmatched' }),
    action: Type.String({
      description:
        'bounce | complaint | delayed | delivered | relayed | expanded | feedback | auto-reply | none',
    }),
    sendId: Nullable(Type.String()),
    runId: Nullable(Type.Integer()),
    matchedBy: Nullable(Type.String({ description: 'verp | envelope-id | returned-headers | recipient' })),
    errorType: Nullable(Type.String()),
    errorReason: Nullable(Type.String()),
    detail: Type.String(),
    recipients: Type.Array(
      Type.Object({
        recipient: Nullable(Type.String()),
        status: Type.String(),
        action: Type.String(),
        sendId: Nullable(Type.String()),
        statusCode: Nullable(Type.String({ description: 'enhanced status code read (RFC 3463)' })),
        code: Nullable(Type.Integer({ description: 'qualification code (SPEC 3); null when not a bounce' })),
        errorType: Nullable(Type.String()),
        errorReason: Nullable(Type.String()),
        fault: Nullable(Type.String({ description: 'recipient | ours | rate | content' })),
        evidence: Type.Array(Type.String()),
      }),
      { description: 'every recipient the report names, with its decision' },
    ),
  },
  { $id: 'InboundResult' },
);

export const bounceReportRoutes: FastifyPluginAsync<InboundDeps> = async (fastify, deps) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  // Scoped to this plugin: the rest of the API keeps JSON-only bodies.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(['message/rfc822', 'text/plain'], { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, body),
  );

  app.post(
    '/v1/inbound/bounces',
    {
      schema: {
        tags: ['inbound'],
        summary: 'Submit one raw RFC 822 message received for the bounce domain (DSN, ARF, anything)',
        consumes: ['message/rfc822', 'text/plain'],
        response: { 202: InboundResult, 400: ErrorBody, 415: ErrorBody, 503: ErrorBody },
      },
    },
    async (request, reply) => {
      const raw = request.body;
      if (!Buffer.isBuffer(raw) || raw.length === 0)
        throw new ApiError(400, 'body: send the raw message as message/rfc822 or text/plain', 'body');
      const { pool, temporal, bounceDomain, invalidAfterErrors, quarantineAfterErrors, logger } = deps;
      const r = await processInboundReport(
        { pool, temporal, bounceDomain, invalidAfterErrors, quarantineAfterErrors, logger },
        raw,
      );
      return reply.status(202).send({
        id: r.id,
        duplicate: r.duplicate,
        kind: r.kind,
        status: r.status,
        action: r.action,
        sendId: r.sendId,
        runId: r.runId,
        matchedBy: r.matchedBy,
        errorType: r.qualification?.errorType ?? null,
        errorReason: r.qualification?.reason ?? null,
        detail: r.detail,
        recipients: r.recipients.map((o) => ({
          recipient: o.recipient,
          status: o.status,
          action: o.action,
          sendId: o.sendId,
          statusCode: o.statusCode,
          code: o.qualification?.code ?? null,
          errorType: o.qualification?.errorType ?? null,
          errorReason: o.qualification?.reason ?? null,
          fault: o.qualification?.fault ?? null,
          evidence: o.evidence,
        })),
      });
    },
  );
};
