// Address statuses as operators manage them (issue 18): put an email address
// or a phone number on the blocklist or the allowlist, quarantine or release
// it, with a reason; the API key's (or console user's) name is kept as who did it. List and
// search statuses. A CSV of them imports through /v1/address-imports.
import { Type, type Static, type TUnsafe } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { getCountryCallingCode, type CountryCode } from 'libphonenumber-js/max';
import {
  ADDRESS_CHANNELS,
  ADDRESS_STATUSES,
  normalizeAddress,
  type AddressChannel,
} from '../../domain/address-status';
import type { AddressStatusRow } from '../../db/repositories/addresses';
import { badRequest } from '../errors';
import { repository } from '../plugins/repositories';
import { routesPlugin } from '../plugins/named-plugin';
import { actorOf } from '../plugins/auth';
import { ErrorBody, IntCursor, Nullable, NullableTimestamp, Timestamp, iso } from '../schemas';
import { Limit, page } from '../paging';

function literals<T extends string>(values: readonly T[], description: string): TUnsafe<T> {
  return Type.Unsafe<T>({ type: 'string', enum: [...values], description });
}

const ChannelIn = Type.Union([Type.Literal('email'), Type.Literal('sms')], {
  description: 'email or sms (a phone number)',
});
const OperatorStatusIn = Type.Union(
  [
    Type.Literal('blocklisted'),
    Type.Literal('allowlisted'),
    Type.Literal('quarantined'),
    Type.Literal('valid'),
  ],
  { description: 'the status to set (valid releases)' },
);
const StatusFilter = Type.Union(
  [
    Type.Literal('valid'),
    Type.Literal('erroneous'),
    Type.Literal('quarantined'),
    Type.Literal('blocklisted'),
    Type.Literal('allowlisted'),
  ],
  { description: 'only this status' },
);

const AddressStatus = Type.Object(
  {
    id: Type.Integer(),
    channel: literals(ADDRESS_CHANNELS, 'email or sms (a phone number)'),
    address: Type.String({
      description: 'normalized: an email in lower case, a phone number as international digits',
    }),
    status: literals(ADDRESS_STATUSES, 'valid, erroneous, quarantined, blocklisted or allowlisted'),
    errorType: Nullable(Type.String()),
    errorReason: Nullable(Type.String({ description: 'the reason of the last delivery error' })),
    errorCount: Type.Integer(),
    firstErrorAt: NullableTimestamp,
    lastErrorAt: NullableTimestamp,
    source: Type.String({ description: 'what set the status: bounce, complaint, manual, import, …' }),
    note: Nullable(Type.String({ description: "the operator's reason" })),
    changedBy: Nullable(
      Type.String({
        description: 'the name of the API key or console user that set it by hand or by import',
      }),
    ),
    updatedAt: Timestamp,
  },
  { $id: 'AddressStatus' },
);

function addressJson(a: AddressStatusRow): Static<typeof AddressStatus> {
  return {
    id: a.id,
    channel: a.channel as AddressChannel,
    address: a.address,
    status: a.status as (typeof ADDRESS_STATUSES)[number],
    errorType: a.error_type,
    errorReason: a.reason,
    errorCount: a.error_count,
    firstErrorAt: iso(a.first_error_at),
    lastErrorAt: iso(a.last_error_at),
    source: a.source,
    note: a.note,
    changedBy: a.changed_by,
    updatedAt: iso(a.updated_at)!,
  };
}

export const addressRoutes: FastifyPluginAsync = routesPlugin(
  { name: 'address-routes', dependencies: [repository('addressStatuses')] },
  async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const addresses = app.addressStatuses;
    const countryCode = getCountryCallingCode(app.deps.config.smsDefaultRegion as CountryCode);

    app.post(
      '/v1/addresses',
      {
        schema: {
          tags: ['addresses'],
          summary:
            'Blocklist, allowlist, quarantine or release (valid) an address, with a reason; the API key or console user is kept as who did it',
          description:
            'Blocklisted: never sent to. Allowlisted: sent to despite its errors (its errors are recorded as ignored, reason 25). ' +
            'Quarantined: held back as after repeated errors. Valid: released, its error count back to 0. ' +
            'The answer is 201 when the address had no status yet, else 200.',
          body: Type.Object(
            {
              channel: ChannelIn,
              address: Type.String({ minLength: 1, maxLength: 254 }),
              status: OperatorStatusIn,
              reason: Type.Optional(Type.String({ maxLength: 500, description: 'why (kept as the note)' })),
            },
            { additionalProperties: false },
          ),
          response: { 200: AddressStatus, 201: AddressStatus, 400: ErrorBody },
        },
      },
      async (req, reply) => {
        const b = req.body;
        const n = normalizeAddress(b.channel, b.address, countryCode);
        if ('error' in n) throw badRequest('body.address', n.error);
        const { row, created } = await addresses.set(
          b.channel,
          n.address,
          b.status,
          b.reason?.trim() || null,
          actorOf(req),
        );
        return reply.status(created ? 201 : 200).send(addressJson(row));
      },
    );

    app.get(
      '/v1/addresses',
      {
        schema: {
          tags: ['addresses'],
          summary: 'Address statuses, by id: filter by channel and status, search by a part of the address',
          querystring: Type.Object(
            {
              channel: Type.Optional(ChannelIn),
              status: Type.Optional(StatusFilter),
              address: Type.Optional(
                Type.String({
                  minLength: 1,
                  maxLength: 254,
                  description: 'a part of the address, case aside',
                }),
              ),
              limit: Limit,
              cursor: IntCursor,
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({ items: Type.Array(AddressStatus), nextCursor: Nullable(Type.String()) }),
            400: ErrorBody,
          },
        },
      },
      async (req) => {
        const limit = req.query.limit ?? 100;
        const p = page(await addresses.list({ ...req.query, limit }), limit);
        return { items: p.items.map(addressJson), nextCursor: p.nextCursor };
      },
    );
  },
);
