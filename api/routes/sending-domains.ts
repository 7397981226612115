// Sending domains over HTTP (issue 19): register a From domain (its DKIM keys
// are made here, the private key stored encrypted and never returned), the DNS
// records to publish, verification against DNS on demand, key rotation,
// complaint rates, and a run's pre-flight check.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  complaintRate,
  isDomainName,
  normalizeDomain,
  recordsToPublish,
  type DkimAlgorithm,
} from '../../domain/sender-auth';
import { encryptPrivateKey, generateDkimKey, newSelector } from '../../channels/email/dkim';
import { verifySendingDomain } from '../../channels/email/sender-auth-dns';
import { computePreflight, senderAuthSettings } from '../../activities/sender-auth-activities';
import type {
  ComplaintFigures,
  NewKey,
  PublicKeyRow,
  SendingDomainRow,
} from '../../db/repositories/sending-domains';
import { setComplaintRateSource, setDomainAuthState } from '../../observability/sender-auth-metrics';
import { ApiError, badRequest, conflict, notFound } from '../errors';
import { repository } from '../plugins/repositories';
import { routesPlugin } from '../plugins/named-plugin';
import { ErrorBody, IdParams, Nullable, NullableTimestamp, Timestamp, iso } from '../schemas';

const Check = Type.Object({
  check: Type.String({ description: 'dkim | spf | spf_from | dmarc | dkim_alignment | spf_alignment' }),
  name: Type.String({ description: 'the DNS name looked at' }),
  pass: Type.Boolean(),
  required: Type.Boolean({ description: 'required checks decide the status; the others are advice' }),
  reason: Type.String(),
  fix: Type.Optional(Type.String({ description: 'the record value that fixes a failed check' })),
});

const Record = Type.Object({
  name: Type.String(),
  type: Type.String({ description: 'TXT | MX' }),
  value: Type.String(),
  purpose: Type.String(),
});

export const Complaints = Type.Object(
  {
    delivered7d: Type.Integer(),
    complaints7d: Type.Integer(),
    rate7d: Nullable(Type.Number({ description: 'complaints / delivered; null when nothing was delivered' })),
    delivered30d: Type.Integer(),
    complaints30d: Type.Integer(),
    rate30d: Nullable(Type.Number()),
  },
  { description: 'complaints (ARF feedback reports) as a share of delivered messages over 7 and 30 days' },
);

const SendingDomain = Type.Object({
  id: Type.Integer(),
  domain: Type.String(),
  status: Type.String({ description: 'pending (never verified) | verified | failed' }),
  checks: Type.Array(Check),
  records: Type.Array(Record, { description: 'the DNS records to publish' }),
  keys: Type.Array(
    Type.Object({
      selector: Type.String(),
      algorithm: Type.String({ description: 'rsa | ed25519' }),
      state: Type.String({
        description: 'active (signs) | pending (rotation: waits for its record) | retired',
      }),
      publicKey: Type.String(),
      createdAt: Timestamp,
      activatedAt: NullableTimestamp,
      retiredAt: NullableTimestamp,
    }),
  ),
  complaints: Complaints,
  checkedAt: NullableTimestamp,
  verifiedAt: NullableTimestamp,
  createdAt: Timestamp,
});

const PreflightItem = Type.Object({
  check: Type.String({
    description: 'domain_auth | complaint_rate | excluded_share | one_click_unsubscribe',
  }),
  level: Type.String({ description: 'ok | warning | refused' }),
  value: Nullable(Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
  message: Type.String(),
});

export const PreflightSchema = Type.Object(
  {
    verdict: Type.String({ description: 'ok | warning | refused' }),
    items: Type.Array(PreflightItem),
    block: Nullable(
      Type.Object({
        code: Type.Integer({
          description: '91002 (DKIM / DMARC check failed) or 91003 (not registered or verified)',
        }),
        detail: Type.String(),
      }),
    ),
    fromDomain: Nullable(Type.String()),
    complaintRate7d: Nullable(Type.Number()),
    complaintRate30d: Nullable(Type.Number()),
    excludedShare: Nullable(Type.Number()),
    excludedByReason: Type.Record(Type.String(), Type.Integer()),
  },
  { description: 'the pre-flight check of a run: stored when it is prepared, shown before it sends' },
);

const CreateBody = Type.Object(
  {
    domain: Type.String({
      minLength: 1,
      maxLength: 253,
      description: 'the From domain, e.g. news.example.jp',
    }),
    ed25519: Type.Optional(
      Type.Boolean({ description: 'also sign with an Ed25519 key (RFC 8463) beside the RSA 2048 one' }),
    ),
  },
  { additionalProperties: false },
);

const RotateBody = Type.Object(
  { algorithm: Type.Optional(Type.Union([Type.Literal('rsa'), Type.Literal('ed25519')])) },
  { additionalProperties: false },
);

export const NO_COMPLAINTS: ComplaintFigures = {
  delivered7d: 0,
  complaints7d: 0,
  delivered30d: 0,
  complaints30d: 0,
};

export function complaintsJson(f: ComplaintFigures): Static<typeof Complaints> {
  return {
    ...f,
    rate7d: complaintRate(f.complaints7d, f.delivered7d),
    rate30d: complaintRate(f.complaints30d, f.delivered30d),
  };
}

export const sendingDomainRoutes: FastifyPluginAsync = routesPlugin(
  {
    name: 'sending-domain-routes',
    dependencies: [repository('sendingDomains'), repository('wizardRuns'), repository('templates')],
  },
  async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const repo = app.sendingDomains;
    const config = app.deps.config;
    const settings = senderAuthSettings(config);
    const recordSettings = {
      bounceDomain: config.bounceDomain,
      spfRelay: config.spfRelay,
      bounceMx: config.bounceDomain,
    };

    // /metrics reads each registered domain's complaint rates when scraped.
    setComplaintRateSource(async () => {
      const figures = await repo.complaints(
        'domain',
        (await repo.list()).map((d) => d.domain),
      );
      return [...figures].flatMap(([domain, f]) => [
        { domain, window: '7d' as const, rate: complaintRate(f.complaints7d, f.delivered7d) },
        { domain, window: '30d' as const, rate: complaintRate(f.complaints30d, f.delivered30d) },
      ]);
    });
    app.addHook('onClose', async () => setComplaintRateSource(null));

    async function domainsJson(rows: SendingDomainRow[]): Promise<Static<typeof SendingDomain>[]> {
      const keys = await repo.keysOf(rows.map((r) => r.id));
      const complaints = await repo.complaints(
        'domain',
        rows.map((r) => r.domain),
      );
      return rows.map((r) => {
        const own = keys.filter((k) => k.domain_id === r.id);
        return {
          id: r.id,
          domain: r.domain,
          status: r.status,
          checks: (r.checks ?? []) as unknown as Static<typeof Check>[],
          records: recordsToPublish(r.domain, own.map(keyFacts), recordSettings),
          keys: own.map((k) => ({
            selector: k.selector,
            algorithm: k.algorithm,
            state: k.state,
            publicKey: k.public_key,
            createdAt: iso(k.created_at)!,
            activatedAt: iso(k.activated_at),
            retiredAt: iso(k.retired_at),
          })),
          complaints: complaintsJson(complaints.get(r.domain) ?? NO_COMPLAINTS),
          checkedAt: iso(r.checked_at),
          verifiedAt: iso(r.verified_at),
          createdAt: iso(r.created_at)!,
        };
      });
    }
    const oneJson = async (row: SendingDomainRow) => (await domainsJson([row]))[0]!;

    async function newKey(algorithm: DkimAlgorithm): Promise<NewKey> {
      if (!config.dkimKeySecret)
        throw new ApiError(503, 'DKIM_KEY_SECRET is not configured: DKIM keys cannot be stored encrypted');
      const k = await generateDkimKey(algorithm);
      return {
        selector: newSelector(algorithm),
        algorithm,
        publicKey: k.publicKey,
        privateKeyEnc: encryptPrivateKey(k.privateKeyPem, config.dkimKeySecret),
      };
    }

    app.get(
      '/v1/sending-domains',
      {
        schema: {
          tags: ['sending domains'],
          summary: 'Sending domains with their verification, the records to publish and complaint rates',
          response: { 200: Type.Object({ items: Type.Array(SendingDomain) }) },
        },
      },
      async () => ({ items: await domainsJson(await repo.list()) }),
    );

    app.get(
      '/v1/sending-domains/:id',
      {
        schema: {
          tags: ['sending domains'],
          summary: 'One sending domain',
          params: IdParams,
          response: { 200: SendingDomain, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (req) => {
        const row = await repo.byId(req.params.id);
        if (!row) throw notFound(`sending domain ${req.params.id}`);
        return oneJson(row);
      },
    );

    app.post(
      '/v1/sending-domains',
      {
        config: { scope: 'admin' },
        schema: {
          tags: ['sending domains'],
          summary:
            'Register a From domain: its DKIM key (RSA 2048, optionally Ed25519) is made and the records to publish are returned; verify once they are published',
          body: CreateBody,
          response: { 201: SendingDomain, 400: ErrorBody, 409: ErrorBody, 503: ErrorBody },
        },
      },
      async (req, reply) => {
        const domain = normalizeDomain(req.body.domain);
        if (!isDomainName(domain))
          throw badRequest(
            'body.domain',
            'a host name of letters, digits, hyphens and dots (IDNs as A-labels)',
          );
        if (await repo.byDomain(domain)) throw conflict(`sending domain ${domain} is registered already`);
        const keys = [await newKey('rsa')];
        if (req.body.ed25519) keys.push(await newKey('ed25519'));
        const row = await repo.insert(domain, keys);
        if (!row) throw conflict(`sending domain ${domain} is registered already`);
        return reply.status(201).send(await oneJson(row));
      },
    );

    app.post(
      '/v1/sending-domains/:id/verify',
      {
        config: { scope: 'admin' },
        schema: {
          tags: ['sending domains'],
          summary:
            'Read the DNS records now and store the verdict per check (DKIM, SPF, DMARC, alignment); a rotated key that verifies takes over',
          params: IdParams,
          response: { 200: SendingDomain, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (req) => {
        const row = await verifySendingDomain(app.db.pool, req.params.id, settings);
        if (!row) throw notFound(`sending domain ${req.params.id}`);
        setDomainAuthState(row.domain, row.status);
        return oneJson(row);
      },
    );

    app.post(
      '/v1/sending-domains/:id/rotate-key',
      {
        config: { scope: 'admin' },
        schema: {
          tags: ['sending domains'],
          summary:
            'Make a new DKIM key under a new selector; the current key keeps signing until the new record verifies',
          params: IdParams,
          body: RotateBody,
          response: { 200: SendingDomain, 400: ErrorBody, 404: ErrorBody, 503: ErrorBody },
        },
      },
      async (req) => {
        const row = await repo.byId(req.params.id);
        if (!row) throw notFound(`sending domain ${req.params.id}`);
        if (!(await repo.addPendingKey(row.id, await newKey(req.body.algorithm ?? 'rsa'))))
          throw notFound(`sending domain ${req.params.id}`);
        return oneJson(row);
      },
    );

    app.delete(
      '/v1/sending-domains/:id',
      {
        config: { scope: 'admin' },
        schema: {
          tags: ['sending domains'],
          summary: 'Remove a sending domain and its keys; mail from it is no longer signed or sent',
          params: IdParams,
          response: { 204: Type.Null(), 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (req, reply) => {
        if (!(await repo.delete(req.params.id))) throw notFound(`sending domain ${req.params.id}`);
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/v1/wizard-runs/:id/preflight',
      {
        schema: {
          tags: ['wizard runs'],
          summary:
            "A run's pre-flight check (domain authentication, complaint rate, excluded share, one-click unsubscribe) and its complaint rates; before preparation it is computed now, without the excluded share",
          params: IdParams,
          response: {
            200: Type.Object({
              runId: Type.Integer(),
              stored: Type.Boolean({ description: 'true: the check stored when the run was prepared' }),
              preflight: PreflightSchema,
              complaints: Complaints,
            }),
            400: ErrorBody,
            404: ErrorBody,
          },
        },
      },
      async (req) => {
        const run = await app.wizardRuns.get(req.params.id);
        if (!run) throw notFound(`wizard run ${req.params.id}`);
        const figures = (await repo.complaints('run', [run.id])).get(String(run.id)) ?? NO_COMPLAINTS;
        const stored = run.preflight as Static<typeof PreflightSchema> | null;
        const preflight =
          stored ??
          (await computePreflight(
            app.db.pool,
            run,
            await app.templates.get(run.template_id),
            settings,
            false,
          ));
        return { runId: run.id, stored: stored !== null, preflight, complaints: complaintsJson(figures) };
      },
    );
  },
);

function keyFacts(k: PublicKeyRow) {
  return { selector: k.selector, algorithm: k.algorithm, publicKey: k.public_key, state: k.state };
}
