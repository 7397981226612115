// MX management rules (SPEC 5) as data users edit, and the breaker state per
// receiving domain. Changing rules is an admin matter.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { DEFAULT_DOMAIN_RULE, validateDomainRule } from '../../domain/domain-throttle';
import { badRequest, conflict, notFound } from '../errors';
import { repository } from '../plugins/repositories';
import { routesPlugin } from '../plugins/named-plugin';
import { ErrorBody, IdParams, Nullable, NullableTimestamp, iso } from '../schemas';

const RuleFields = {
  errorRateThreshold: Type.Number({
    // Above 0; OpenAPI 3.0 has no numeric exclusiveMinimum, so the smallest step is stated.
    minimum: 0.0001,
    maximum: 1,
    description: 'fraction of errors that blocks the domain (0.9 = 90%), from 0.0001 to 1',
  }),
  minMessages: Type.Integer({
    minimum: 1,
    maximum: 10_000_000,
    description: 'messages counted before the rate applies',
  }),
  blockSeconds: Type.Integer({ minimum: 1, maximum: 30 * 86400 }),
  maxConnections: Type.Integer({ minimum: 1, maximum: 1000 }),
  maxPerHour: Nullable(Type.Integer({ minimum: 1, maximum: 100_000_000 })),
};

const CreateRule = Type.Object(
  {
    domain: Type.String({
      minLength: 1,
      maxLength: 253,
      description: 'receiving domain, or * for the default',
    }),
    errorRateThreshold: Type.Optional(RuleFields.errorRateThreshold),
    minMessages: Type.Optional(RuleFields.minMessages),
    blockSeconds: Type.Optional(RuleFields.blockSeconds),
    maxConnections: Type.Optional(RuleFields.maxConnections),
    maxPerHour: Type.Optional(RuleFields.maxPerHour),
  },
  { additionalProperties: false },
);

const PatchRule = Type.Partial(Type.Object(RuleFields), { additionalProperties: false });

const DomainRule = Type.Object({
  id: Type.Integer(),
  domain: Type.String(),
  ...RuleFields,
  state: Type.Object({
    messages: Type.Integer(),
    errors: Type.Integer(),
    blockedUntil: NullableTimestamp,
    hourCount: Type.Integer(),
  }),
});

function ruleJson(r: any): Static<typeof DomainRule> {
  return {
    id: r.id,
    domain: r.domain,
    errorRateThreshold: Number(r.error_rate_threshold),
    minMessages: r.min_messages,
    blockSeconds: r.block_seconds,
    maxConnections: r.max_connections,
    maxPerHour: r.max_per_hour,
    state: {
      messages: r.messages ?? 0,
      errors: r.errors ?? 0,
      blockedUntil: iso(r.blocked_until),
      hourCount: r.hour_count ?? 0,
    },
  };
}

export const domainRuleRoutes: FastifyPluginAsync = routesPlugin(
  { name: 'domain-rule-routes', dependencies: [repository('domainRules')] },
  async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const rules = app.domainRules;

    app.get(
      '/v1/domain-rules',
      {
        schema: {
          tags: ['mx management'],
          summary:
            'Per-domain rules with their breaker state; domains without a rule follow "*" or the built-in default',
          response: {
            200: Type.Object({ items: Type.Array(DomainRule), builtInDefault: Type.Object(RuleFields) }),
          },
        },
      },
      async () => {
        const rows = await rules.list();
        const { domain: _d, ...builtInDefault } = DEFAULT_DOMAIN_RULE;
        return { items: rows.map(ruleJson), builtInDefault };
      },
    );

    app.get(
      '/v1/domain-states',
      {
        schema: {
          tags: ['mx management'],
          summary: 'Breaker state of every receiving domain seen',
          querystring: Type.Object(
            { blockedOnly: Type.Optional(Type.Boolean()) },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              items: Type.Array(
                Type.Object({
                  domain: Type.String(),
                  messages: Type.Integer(),
                  errors: Type.Integer(),
                  blockedUntil: NullableTimestamp,
                  hourCount: Type.Integer(),
                }),
              ),
            }),
            400: ErrorBody,
          },
        },
      },
      async (req) => {
        const states = await rules.states(req.query.blockedOnly ?? false);
        return {
          items: states.map((s) => ({
            domain: s.domain,
            messages: s.messages,
            errors: s.errors,
            blockedUntil: iso(s.blocked_until),
            hourCount: s.hour_count,
          })),
        };
      },
    );

    app.post(
      '/v1/domain-rules',
      {
        config: { scope: 'admin' },
        schema: {
          tags: ['mx management'],
          summary: 'Add a rule for a domain (or *)',
          body: CreateRule,
          response: { 201: DomainRule, 400: ErrorBody, 409: ErrorBody },
        },
      },
      async (req, reply) => {
        const b = req.body;
        const problem = validateDomainRule({ domain: b.domain })[0];
        if (problem) throw badRequest(`body.${problem.field}`, problem.message);
        const d = { ...DEFAULT_DOMAIN_RULE, ...b };
        const row = await rules.insert(b.domain, d);
        if (!row) throw conflict(`a rule for ${b.domain} exists already; PATCH it`);
        return reply.status(201).send(ruleJson(row));
      },
    );

    app.patch(
      '/v1/domain-rules/:id',
      {
        config: { scope: 'admin' },
        schema: {
          tags: ['mx management'],
          summary: 'Change a rule',
          params: IdParams,
          body: PatchRule,
          response: { 200: DomainRule, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (req) => {
        const row = await rules.change(req.params.id, req.body);
        if (!row) throw notFound(`domain rule ${req.params.id}`);
        return ruleJson(row);
      },
    );

    app.delete(
      '/v1/domain-rules/:id',
      {
        config: { scope: 'admin' },
        schema: {
          tags: ['mx management'],
          summary: 'Remove a rule (the domain follows * again)',
          params: IdParams,
          response: { 204: Type.Null(), 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (req, reply) => {
        if (!(await rules.delete(req.params.id))) throw notFound(`domain rule ${req.params.id}`);
        return reply.status(204).send(null);
      },
    );

    app.post(
      '/v1/domain-states/:domain/unblock',
      {
        config: { scope: 'admin' },
        schema: {
          tags: ['mx management'],
          summary: 'Lift a breaker by hand; held sends go with their next wave',
          params: Type.Object(
            { domain: Type.String({ minLength: 1, maxLength: 253 }) },
            { additionalProperties: false },
          ),
          response: { 204: Type.Null(), 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (req, reply) => {
        if (!(await rules.unblock(req.params.domain)))
          throw notFound(`no state for domain ${req.params.domain}`);
        return reply.status(204).send(null);
      },
    );
  },
);
