// Shared TypeBox pieces. Every route declares its own request and response
// schemas with these; they feed validation, types and /openapi.json.
import { Type, type TSchema } from '@sinclair/typebox';

export const ErrorBody = Type.Object(
  {
    statusCode: Type.Integer(),
    error: Type.String(),
    message: Type.String(),
    field: Type.Optional(Type.String()),
  },
  { $id: 'ErrorBody', description: 'Every error has this shape.' },
);

export const IdParams = Type.Object(
  { id: Type.Integer({ minimum: 1, maximum: 2147483647 }) },
  { additionalProperties: false },
);
export const BigIdParams = Type.Object(
  { id: Type.String({ pattern: '^[1-9][0-9]{0,18}$' }) },
  { additionalProperties: false },
);

export const Channel = Type.Union([Type.Literal('email'), Type.Literal('sms'), Type.Literal('line')]);

export const Timestamp = Type.String({ format: 'date-time', description: 'ISO 8601 with zone' });
export const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);

export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const errorResponses = {
  400: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  503: ErrorBody,
};

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,19}$', description: 'id to continue after' })),
};

export function iso(d: Date | string | null | undefined): string | null {
  if (d === null || d === undefined) return null;
  return (d instanceof Date ? d : new Date(d)).toISOString();
}
