// MX management rules (SPEC 5) as data users edit, and the breaker state per
// receiving domain. Changing rules is an admin matter.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { DEFAULT_DOMAIN_RULE, validateDomainRule } from '../../domain/domain-throttle';
import { badRequest, conflict, notFound } from '../errors';
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

const SELECT = `SELECT d.*, s.messages, s.errors, s.blocked_until, s.hour_count
                  FROM domain_rule d LEFT JOIN domain_state s ON s.domain = d.domain`;

export const domainRuleRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { pool } = app.deps;

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
      const res = await pool.query(`${SELECT} ORDER BY d.domain`);
      const { domain: _d, ...builtInDefault } = DEFAULT_DOMAIN_RULE;
      return { items: res.rows.map(ruleJson), builtInDefault };
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
      const res = await pool.query(
        `SELECT * FROM domain_state WHERE NOT $1 OR blocked_until > now() ORDER BY domain LIMIT 1000`,
        [req.query.blockedOnly ?? false],
      );
      return {
        items: res.rows.map((s) => ({
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
      const ins = await pool.query(
        `INSERT INTO domain_rule (domain, error_rate_threshold, min_messages, block_seconds, max_connections, max_per_hour)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (domain) DO NOTHING RETURNING id`,
        [b.domain, d.errorRateThreshold, d.minMessages, d.blockSeconds, d.maxConnections, d.maxPerHour],
      );
      if (!ins.rows[0]) throw conflict(`a rule for ${b.domain} exists already; PATCH it`);
      const res = await pool.query(`${SELECT} WHERE d.id = $1`, [ins.rows[0].id]);
      return reply.status(201).send(ruleJson(res.rows[0]));
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
      const b = req.body;
      const res = await pool.query(
        `UPDATE domain_rule SET error_rate_threshold = coalesce($2, error_rate_threshold), min_messages = coalesce($3, min_messages),
                block_seconds = coalesce($4, block_seconds), max_connections = coalesce($5, max_connections),
                max_per_hour = CASE WHEN $7 THEN $6 ELSE max_per_hour END, updated_at = now()
          WHERE id = $1 RETURNING id`,
        [
          req.params.id,
          b.errorRateThreshold ?? null,
          b.minMessages ?? null,
          b.blockSeconds ?? null,
          b.maxConnections ?? null,
          b.maxPerHour ?? null,
          'maxPerHour' in b,
        ],
      );
      if (!res.rows[0]) throw notFound(`domain rule ${req.params.id}`);
      return ruleJson((await pool.query(`${SELECT} WHERE d.id = $1`, [req.params.id])).rows[0]);
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
      const res = await pool.query('DELETE FROM domain_rule WHERE id = $1', [req.params.id]);
      if (res.rowCount === 0) throw notFound(`domain rule ${req.params.id}`);
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
      const res = await pool.query(
        `UPDATE domain_state SET blocked_until = NULL, messages = 0, errors = 0, window_started_at = now() WHERE domain = lower($1)`,
        [req.params.domain],
      );
      if (res.rowCount === 0) throw notFound(`no state for domain ${req.params.domain}`);
      return reply.status(204).send(null);
    },
  );
};
