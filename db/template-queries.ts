import type { Queryable } from './pool';
import type { Row } from './rows';

/** A template as stored (declared in db/rows.ts, checked against the migrations). */
export type TemplateRow = Row<'template'>;

export async function getTemplate(db: Queryable, id: number): Promise<TemplateRow | null> {
  const res = await db.query<TemplateRow>('SELECT * FROM template WHERE id = $1', [id]);
  return res.rows[0] ?? null;
}
