// Shared querystring pieces of the history searches (runs and individual
// sends): validation by TypeBox, semantics in domain/history-search, the
// statement in db/repositories/history.ts.
import { Type } from '@sinclair/typebox';
import { SearchError } from '../domain/history-search';
import { badRequest } from './errors';

export const MAX_PAGE = 500;

export const SearchText = (description: string) =>
  Type.Optional(
    Type.String({ maxLength: 200, description: `${description}; partial, case-sensitive; blank is refused` }),
  );
export const TimeBound = (description: string) =>
  Type.Optional(
    Type.String({ maxLength: 40, description: `${description} (ISO 8601 with zone, inclusive)` }),
  );
export const Order = Type.Optional(
  Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc' }),
);
export const Limit = Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 100 }));
export const Cursor = Type.Optional(
  Type.String({ maxLength: 400, description: 'opaque: nextCursor of the previous page' }),
);

export function rangeParams(name: string, what: string) {
  return { [`${name}From`]: TimeBound(`${what} from`), [`${name}To`]: TimeBound(`${what} to`) };
}

/** A search's answer, or a 400 naming the field a SearchError (domain/history-search) blames. */
export async function searchOrReject<T>(search: () => Promise<T>): Promise<T> {
  try {
    return await search();
  } catch (err) {
    if (err instanceof SearchError) throw badRequest(`querystring.${err.field}`, err.message);
    throw err;
  }
}
