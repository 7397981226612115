// Querystring pieces and id-cursor paging shared by the resource lists (leads, templates, segments).
import { Type } from '@sinclair/typebox';

export const Limit = Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 }));
export const Text = (d: string) =>
  Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: `${d}; partial, case-sensitive` }));

/** The first `limit` rows, and the cursor of the next page when the repository found one more. */
export const page = <T extends { id: number }>(rows: T[], limit: number) => {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? String(last.id) : null };
};
