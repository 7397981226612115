// The bounce qualification table (SPEC 5): built-in rules (code), user rules
// and observed remote texts with their occurrence counts. Users add rules,
// qualify 'undefined' texts, and requalify stored bounces after a change.
import { actorOf } from '../plugins/auth';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { BUILTIN_BOUNCE_RULES, validateRulePattern } from '../../domain/bounce-rules';
import { isKnownDeliveryCode } from '../../domain/delivery-codes';
import { ERROR_REASONS, isErrorReason, isErrorType } from '../../domain/error-reasons';
import { type BounceRuleDbRow, type RuleInput } from '../../db/bounce-rule-queries';
import { badRequest, conflict, notFound } from '../errors';
import { repository } from '../plugins/repositories';
import { routesPlugin } from '../plugins/named-plugin';
import { ErrorBody, IdParams, Nullable, NullableTimestamp, Timestamp, iso } from '../schemas';

const BounceRule = Type.Object(
  {
    id: Type.String({ description: 'a number for stored rows, `builtin:…` for built-in rules' }),
    pattern: Type.String(),
    isRegex: Type.Boolean(),
    errorType: Type.String(),
    reason: Type.String(),
    code: Type.Integer(),
    origin: Type.String({
      description: 'builtin | user | observed (a remote text counted, classified by a rule)',
    }),
    state: Type.String({ description: 'qualified | undefined (waiting for a user to qualify it)' }),
    normalizedText: Nullable(Type.String()),
    occurrences: Nullable(Type.Integer()),
    occurrencesResetAt: Type.Union([Timestamp, Type.Null()], {
      description: 'when a user last reset the occurrence count (it counts again from then on)',
    }),
    occurrencesResetBy: Nullable(
      Type.String({ description: 'name of the API key that last reset the occurrence count' }),
    ),
    createdAt: NullableTimestamp,
    updatedAt: NullableTimestamp,
  },
  { $id: 'BounceRule' },
);

const BounceRuleList = Type.Object({ items: Type.Array(BounceRule) }, { $id: 'BounceRuleList' });

const RuleBody = Type.Object(
  {
    pattern: Type.String({ minLength: 1, maxLength: 500 }),
    isRegex: Type.Optional(Type.Boolean({ default: false })),
    errorType: Type.String(),
    reason: Type.String(),
    code: Type.Integer(),
  },
  { additionalProperties: false },
);

const PatchBody = Type.Partial(RuleBody, { additionalProperties: false });

const RequalifyResult = Type.Object(
  {
    texts: Type.Integer({ description: 'observed texts reclassified' }),
    qualified: Type.Integer(),
    stillUndefined: Type.Integer(),
    reports: Type.Integer({ description: 'stored bounces that were undefined and now have a qualification' }),
    sends: Type.Integer({ description: 'sends whose error type and reason were updated' }),
  },
  { $id: 'BounceRequalifyResult' },
);

function rowJson(r: BounceRuleDbRow): Static<typeof BounceRule> {
  return {
    id: String(r.id),
    pattern: r.pattern,
    isRegex: r.is_regex,
    errorType: r.error_type,
    reason: r.reason,
    code: r.code,
    origin: r.origin,
    state: r.state,
    normalizedText: r.normalized_text,
    occurrences: r.occurrences,
    occurrencesResetAt: iso(r.occurrences_reset_at),
    occurrencesResetBy: r.occurrences_reset_by,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

/** Checks a rule against the domain tables; errors name the field. */
function validRule(b: {
  pattern: string;
  isRegex?: boolean;
  errorType: string;
  reason: string;
  code: number;
}): RuleInput {
  const isRegex = b.isRegex ?? false;
  const patternProblem = validateRulePattern(b.pattern, isRegex);
  if (patternProblem !== null) throw badRequest('pattern', patternProblem);
  if (!isErrorReason(b.reason) || b.reason === 'undefined')
    throw badRequest('reason', `unknown error reason "${b.reason}"`);
  if (!isErrorType(b.errorType) || b.errorType === 'undefined')
    throw badRequest('errorType', `unknown error type "${b.errorType}"`);
  const allowed = ERROR_REASONS[b.reason].types;
  if (!allowed.includes(b.errorType))
    throw badRequest('errorType', `reason ${b.reason} is ${allowed.join(' or ')}, not ${b.errorType}`);
  if (!isKnownDeliveryCode(b.code)) throw badRequest('code', `unknown delivery code ${b.code}`);
  return { pattern: b.pattern, isRegex, errorType: b.errorType, reason: b.reason, code: b.code };
}

export const bounceRuleRoutes: FastifyPluginAsync = routesPlugin(
  { name: 'bounce-rule-routes', dependencies: [repository('bounceRules')] },
  async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const rules = app.bounceRules;

    app.get(
      '/v1/bounce-rules',
      {
        schema: {
          tags: ['bounce-rules'],
          summary: 'Built-in rules, user rules and observed remote texts (most frequent first)',
          querystring: Type.Object(
            {
              state: Type.Optional(Type.Union([Type.Literal('qualified'), Type.Literal('undefined')])),
              limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 500 })),
            },
            { additionalProperties: false },
          ),
          response: { 200: BounceRuleList, 400: ErrorBody },
        },
      },
      async (req) => {
        const rows = await rules.list(req.query.state, req.query.limit ?? 500);
        const builtins =
          req.query.state === 'undefined'
            ? []
            : BUILTIN_BOUNCE_RULES.map((r) => ({
                id: String(r.id),
                pattern: r.pattern,
                isRegex: r.isRegex,
                errorType: r.errorType,
                reason: r.reason,
                code: r.code,
                origin: 'builtin',
                state: 'qualified',
                normalizedText: null,
                occurrences: null,
                occurrencesResetAt: null,
                occurrencesResetBy: null,
                createdAt: null,
                updatedAt: null,
              }));
        // Matching order: user rules, then built-in ones; then the observed texts.
        const user = rows.filter((r) => r.origin === 'user').map(rowJson);
        const observed = rows.filter((r) => r.origin !== 'user').map(rowJson);
        return { items: [...user, ...builtins, ...observed] };
      },
    );

    app.post(
      '/v1/bounce-rules',
      {
        schema: {
          tags: ['bounce-rules'],
          summary: 'Add a user rule; user rules win over built-in ones',
          body: RuleBody,
          response: { 201: BounceRule, 400: ErrorBody },
        },
      },
      async (req, reply) => reply.status(201).send(rowJson(await rules.insert(validRule(req.body)))),
    );

    app.patch(
      '/v1/bounce-rules/:id',
      {
        schema: {
          tags: ['bounce-rules'],
          summary: 'Edit a rule, or qualify an observed text; either becomes a user rule',
          params: IdParams,
          body: PatchBody,
          response: { 200: BounceRule, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (req) => {
        const row = await rules.get(req.params.id);
        if (!row) throw notFound(`bounce rule ${req.params.id}`);
        const merged = {
          pattern: req.body.pattern ?? row.pattern,
          isRegex: req.body.isRegex ?? row.is_regex,
          errorType: req.body.errorType ?? row.error_type,
          reason: req.body.reason ?? row.reason,
          code: req.body.code ?? row.code,
        };
        const updated = await rules.update(row.id, validRule(merged));
        if (!updated) throw notFound(`bounce rule ${req.params.id}`);
        return rowJson(updated);
      },
    );

    app.post(
      '/v1/bounce-rules/:id/reset-occurrences',
      {
        schema: {
          tags: ['bounce-rules'],
          summary:
            "Reset a bounce text's occurrence count to 0 (an observed text, or one a user qualified); who and when are recorded",
          params: IdParams,
          response: { 200: BounceRule, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (req) => {
        const reset = await rules.resetOccurrences(req.params.id, actorOf(req));
        if (reset === null) throw notFound(`bounce rule ${req.params.id}`);
        if (reset === 'no-text')
          throw conflict(
            `bounce rule ${req.params.id} is a rule a user wrote: it counts no bounce text, so it has no occurrence count to reset`,
          );
        return rowJson(reset);
      },
    );

    app.post(
      '/v1/bounce-rules/requalify',
      {
        schema: {
          tags: ['bounce-rules'],
          summary: 'Re-run classification of observed texts and of stored bounces still undefined',
          response: { 200: RequalifyResult, 503: ErrorBody },
        },
      },
      async () =>
        rules.requalify({
          invalidAfterErrors: app.deps.config.invalidAfterErrors,
          quarantineAfterErrors: app.deps.config.quarantineAfterErrors,
        }),
    );
  },
);
