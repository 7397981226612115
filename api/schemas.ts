// Shared TypeBox pieces. Every route declares its own request and response
// schemas with these; they feed validation, types and /openapi.json.
import { Type, type TSchema } from '@sinclair/typebox';
import { CHANNELS } from '../domain/channels';
import {
  BIGINT_ID_PATTERN,
  FREE_JSON_LIMITS,
  MAX_INT_ID,
  freeJsonProblem,
  parseZonedTime,
} from '../domain/input-limits';

// The error shape is shared with inbound/'s routes, so it lives below both (domain/http-error.ts).
import { ErrorBody } from '../domain/http-error';

export { ErrorBody };

/** An integer (int4) id: in paths and query strings, decimal digits only. */
export const IntId = (description?: string) =>
  Type.Integer({ minimum: 1, maximum: MAX_INT_ID, ...(description ? { description } : {}) });

export const IdParams = Type.Object({ id: IntId() }, { additionalProperties: false });
export const BigIdParams = Type.Object(
  { id: Type.String({ pattern: BIGINT_ID_PATTERN }) },
  { additionalProperties: false },
);

/**
 * Free-form JSON object a client stores and reads back: bounded nesting and
 * size (checked by the `x-free-json` keyword that ajvInputRules adds).
 */
export const FreeJsonObject = (description?: string) =>
  Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), {
    'x-free-json': { ...FREE_JSON_LIMITS },
    description: `${description ? `${description}; ` : ''}at most ${FREE_JSON_LIMITS.maxDepth} levels deep and ${FREE_JSON_LIMITS.maxBytes} bytes as JSON`,
  });

export const Channel = Type.Union(CHANNELS.map((c) => Type.Literal(c)));

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
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$', description: 'id to continue after' })),
};

/** Cursor of lists paged by an int4 id: the id to continue after. */
export const IntCursor = Type.Optional(
  Type.Integer({ minimum: 0, maximum: MAX_INT_ID, description: 'id to continue after (nextCursor)' }),
);

/** The part of Ajv these rules use (Fastify's validator instance). */
interface AjvLike {
  addKeyword(def: {
    keyword: string;
    schemaType: string;
    errors: boolean;
    validate: (schema: any, data: unknown) => boolean;
  }): unknown;
  addFormat(name: string, format: { type: 'string'; validate: (s: string) => boolean }): unknown;
  formats: Record<string, unknown>;
}

/** Ajv plugin: the `x-free-json` keyword (see FreeJsonObject). */
export function ajvInputRules<A extends object>(instance: A): A {
  const ajv = instance as AjvLike;
  const check = (limits: { maxDepth: number; maxBytes: number }, data: unknown): boolean => {
    const problem = freeJsonProblem(data, limits);
    (check as unknown as { errors: unknown[] }).errors = problem
      ? [{ keyword: 'x-free-json', message: problem, params: {} }]
      : [];
    return problem === null;
  };
  ajv.addKeyword({ keyword: 'x-free-json', schemaType: 'object', errors: true, validate: check });
  return instance;
}

/**
 * After Ajv's formats are in: a date-time must also be a time JavaScript and
 * PostgreSQL can both hold (no leap second, 1900–9999), not only well-formed.
 */
export function ajvStrictTimes(instance: object): void {
  const ajv = instance as AjvLike;
  const original = ajv.formats['date-time'];
  const wellFormed = (s: string): boolean => {
    if (original instanceof RegExp) return original.test(s);
    if (typeof original === 'function') return Boolean(original(s));
    const v = (original as { validate?: unknown } | undefined)?.validate;
    if (v instanceof RegExp) return v.test(s);
    return typeof v === 'function' ? Boolean(v(s)) : true;
  };
  ajv.addFormat('date-time', {
    type: 'string',
    validate: (s) => wellFormed(s) && parseZonedTime(s) !== null,
  });
}

export function iso(d: Date | string | null | undefined): string | null {
  if (d === null || d === undefined) return null;
  return (d instanceof Date ? d : new Date(d)).toISOString();
}
