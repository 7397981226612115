// The segment ("search condition") filter language over lead fields and free
// attributes, validated and compiled to a parameterized SQL predicate over the
// lead table aliased `l`. Values never reach the SQL text: only field names
// from the fixed table below and `$n` placeholders do.
//
//   { "all": [ { "field": "email", "op": "contains", "value": "@example.jp" },
//              { "any": [ { "attribute": "plan", "op": "eq", "value": "gold" },
//                         { "attribute": "plan", "op": "eq", "value": "silver" } ] } ] }
//
// An empty filter ({} or { "all": [] }) selects every live lead.
//
// A `sends` condition reads the lead's individual send history (複合検索's send
// history block): the lead has a send matching every given key, or, with
// "exists": false, has none. Keys: channel, runId, templateId, result, code
// (one value or a list: OR), sentFrom / sentTo (inclusive, ISO 8601), clicked,
// opened, unsubscribed (true / false). A saved segment and the lead search
// (POST /v1/leads/search) compile the same filter here, so they select alike.
//
//   { "sends": { "runId": 12, "clicked": true } }
//   { "all": [ { "field": "email_valid", "op": "eq", "value": true },
//              { "sends": { "channel": "email", "result": ["error"], "code": [42550, 42553] } } ] }

import { unreachedSendSql } from './history-search';

export type FilterOp =
  'eq' | 'neq' | 'contains' | 'starts_with' | 'in' | 'gt' | 'gte' | 'lt' | 'lte' | 'is_blank' | 'not_blank';

export type FilterNode =
  | { all: FilterNode[] }
  | { any: FilterNode[] }
  | { not: FilterNode }
  | { field: string; op: FilterOp; value?: unknown }
  | { attribute: string; op: FilterOp; value?: unknown }
  | { sends: SendHistoryCondition };

/** A condition on the lead's individual sends (see the header). */
export interface SendHistoryCondition {
  exists?: boolean;
  channel?: string | string[];
  runId?: number | number[];
  templateId?: number | number[];
  result?: string | string[];
  code?: number | number[];
  sentFrom?: string;
  sentTo?: string;
  clicked?: boolean;
  opened?: boolean;
  unsubscribed?: boolean;
}

/** The results a send can have (db: send.result). */
export const SEND_RESULTS = ['pending', 'sent', 'delivered', 'error', 'pre_error'] as const;

type FieldKind = 'text' | 'bool' | 'time' | 'int';

/** Filterable lead columns: name in the filter → column and kind. */
const FIELDS: Record<string, { column: string; kind: FieldKind }> = {
  id: { column: 'l.id', kind: 'int' },
  name: { column: 'l.name', kind: 'text' },
  email: { column: 'l.email', kind: 'text' },
  line_user_id: { column: 'l.line_user_id', kind: 'text' },
  line_friend_status: { column: 'l.line_friend_status', kind: 'text' },
  email_valid: { column: 'l.email_valid', kind: 'bool' },
  sms_permission: { column: 'l.sms_permission', kind: 'bool' },
  dm_permission: { column: 'l.dm_permission', kind: 'bool' },
  created_at: { column: 'l.created_at', kind: 'time' },
  updated_at: { column: 'l.updated_at', kind: 'time' },
  unsubscribed_email_at: { column: 'l.unsubscribed_email_at', kind: 'time' },
  unsubscribed_sms_at: { column: 'l.unsubscribed_sms_at', kind: 'time' },
  unsubscribed_line_at: { column: 'l.unsubscribed_line_at', kind: 'time' },
};

const OPS: readonly FilterOp[] = [
  'eq',
  'neq',
  'contains',
  'starts_with',
  'in',
  'gt',
  'gte',
  'lt',
  'lte',
  'is_blank',
  'not_blank',
];
const MAX_DEPTH = 8;
const MAX_CONDITIONS = 100;
const ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

export class FilterError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

export interface CompiledFilter {
  sql: string;
  params: unknown[];
}

/**
 * Compile to a predicate with PostgreSQL placeholders `$n`, numbered after
 * `paramOffset` placeholders the caller already uses.
 */
export function compileSegmentFilter(input: unknown, paramOffset = 0): CompiledFilter {
  const params = new Params(paramOffset);
  let count = 0;
  const walk = (node: unknown, path: string, depth: number): string => {
    if (depth > MAX_DEPTH) throw new FilterError(`nesting deeper than ${MAX_DEPTH} levels`, path);
    if (!isObject(node)) throw new FilterError('must be an object', path);
    if ('all' in node || 'any' in node) {
      const key = 'all' in node ? 'all' : 'any';
      const list = node[key];
      if (!Array.isArray(list)) throw new FilterError(`"${key}" must be an array`, `${path}.${key}`);
      if (list.length === 0) return key === 'all' ? 'TRUE' : 'FALSE';
      const parts = list.map((child, i) => walk(child, `${path}.${key}[${i}]`, depth + 1));
      return `(${parts.join(key === 'all' ? ' AND ' : ' OR ')})`;
    }
    if ('not' in node) return `NOT ${walk(node.not, `${path}.not`, depth + 1)}`;
    if (++count > MAX_CONDITIONS) throw new FilterError(`more than ${MAX_CONDITIONS} conditions`, path);
    if ('sends' in node) return sendHistory(node.sends, `${path}.sends`, params);
    return condition(node, path, params);
  };
  if (isObject(input) && Object.keys(input).length === 0) return { sql: 'TRUE', params: params.values };
  const sql = walk(input, 'filter', 0);
  return { sql, params: params.values };
}

function condition(node: Record<string, unknown>, path: string, params: Params): string {
  const op = node.op;
  if (typeof op !== 'string' || !(OPS as readonly string[]).includes(op)) {
    throw new FilterError(`"op" must be one of ${OPS.join(', ')}`, `${path}.op`);
  }
  let column: string;
  let kind: FieldKind;
  if (typeof node.field === 'string') {
    const f = FIELDS[node.field];
    if (!f)
      throw new FilterError(
        `unknown field "${node.field}"; known: ${Object.keys(FIELDS).join(', ')}`,
        `${path}.field`,
      );
    column = f.column;
    kind = f.kind;
  } else if (typeof node.attribute === 'string') {
    if (!ATTRIBUTE_NAME.test(node.attribute))
      throw new FilterError('attribute names are letters, digits, _ and -', `${path}.attribute`);
    column = `(l.attributes ->> ${params.add(node.attribute)})`;
    kind = 'text';
  } else {
    throw new FilterError('a condition needs "field" or "attribute"', path);
  }
  const value = node.value;
  const bind = (v: unknown): string => {
    const ph = params.add(coerce(v, kind, `${path}.value`));
    return kind === 'time' ? `${ph}::timestamptz` : ph;
  };
  switch (op as FilterOp) {
    case 'is_blank':
      return kind === 'text' ? `coalesce(${column}, '') = ''` : `${column} IS NULL`;
    case 'not_blank':
      return kind === 'text' ? `coalesce(${column}, '') <> ''` : `${column} IS NOT NULL`;
    case 'eq':
      return `${column} = ${bind(value)}`;
    case 'neq':
      return `${column} IS DISTINCT FROM ${bind(value)}`;
    case 'contains':
    case 'starts_with': {
      if (kind !== 'text') throw new FilterError(`"${op}" applies to text fields only`, `${path}.op`);
      if (typeof value !== 'string' || value === '')
        throw new FilterError('must be a non-empty string', `${path}.value`);
      // Case-sensitive partial match (SPEC 9); LIKE wildcards in the value are literal.
      const escaped = value.replace(/[\\%_]/g, (c) => `\\${c}`);
      return `${column} LIKE ${params.add(op === 'contains' ? `%${escaped}%` : `${escaped}%`)}`;
    }
    case 'in': {
      if (!Array.isArray(value) || value.length === 0 || value.length > 1000) {
        throw new FilterError('"in" needs an array of 1 to 1000 values', `${path}.value`);
      }
      return `${column} IN (${value.map((v) => bind(v)).join(', ')})`;
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const sym = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[op as 'gt'];
      return `${column} ${sym} ${bind(value)}`;
    }
  }
  throw new FilterError('unsupported condition', path);
}

const HISTORY_KEYS = [
  'exists',
  'channel',
  'runId',
  'templateId',
  'result',
  'code',
  'sentFrom',
  'sentTo',
  'clicked',
  'opened',
  'unsubscribed',
] as const;

/**
 * EXISTS (or NOT EXISTS) over the lead's sends, alias `hs` (the send_lead_idx
 * index finds them). Every key given narrows the send the lead must have.
 */
function sendHistory(node: unknown, path: string, params: Params): string {
  if (!isObject(node)) throw new FilterError('must be an object', path);
  for (const k of Object.keys(node)) {
    if (!(HISTORY_KEYS as readonly string[]).includes(k))
      throw new FilterError(`unknown key "${k}"; known: ${HISTORY_KEYS.join(', ')}`, `${path}.${k}`);
  }
  // A run's send no batch has reached yet is no history: before runs created their sends at
  // preparation it had no row.
  const where: string[] = ['hs.lead_id = l.id', `NOT ${unreachedSendSql('hs')}`];
  const list = (key: string, column: string, kind: 'text' | 'int', allowed?: readonly string[]) => {
    const v = node[key];
    if (v === undefined) return;
    const values = Array.isArray(v) ? v : [v];
    if (values.length === 0 || values.length > 1000)
      throw new FilterError('one value or a list of 1 to 1000', `${path}.${key}`);
    const coerced = values.map((x, i) => {
      const at = Array.isArray(v) ? `${path}.${key}[${i}]` : `${path}.${key}`;
      if (kind === 'int') {
        if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > 2147483647)
          throw new FilterError('must be an integer id or code', at);
        return x;
      }
      if (typeof x !== 'string' || x === '') throw new FilterError('must be a non-empty string', at);
      if (allowed && !allowed.includes(x)) throw new FilterError(`must be one of ${allowed.join(', ')}`, at);
      return x;
    });
    where.push(`${column} = ANY(${params.add(coerced)}::${kind === 'int' ? 'int' : 'text'}[])`);
  };
  list('channel', 'hs.channel', 'text');
  list('runId', 'hs.run_id', 'int');
  list('templateId', 'hs.template_id', 'int');
  list('result', 'hs.result', 'text', SEND_RESULTS);
  list('code', 'hs.code', 'int');
  for (const [key, op] of [
    ['sentFrom', '>='],
    ['sentTo', '<='],
  ] as const) {
    if (node[key] === undefined) continue;
    const v = coerce(node[key], 'time', `${path}.${key}`);
    where.push(`hs.sent_at ${op} ${params.add(v)}::timestamptz`);
  }
  const flag = (key: string): boolean | undefined => {
    const v = node[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') throw new FilterError('must be true or false', `${path}.${key}`);
    return v;
  };
  const clicked = flag('clicked');
  if (clicked !== undefined) where.push(clicked ? 'hs.click_count > 0' : 'hs.click_count = 0');
  const opened = flag('opened');
  if (opened !== undefined) where.push(`hs.opened_at IS ${opened ? 'NOT ' : ''}NULL`);
  const unsubscribed = flag('unsubscribed');
  if (unsubscribed !== undefined) {
    where.push(
      `${unsubscribed ? '' : 'NOT '}EXISTS (SELECT 1 FROM tracking_event hu WHERE hu.send_id = hs.id AND hu.kind = 'unsubscribe')`,
    );
  }
  const exists = flag('exists') ?? true;
  return `(${exists ? '' : 'NOT '}EXISTS (SELECT 1 FROM send hs WHERE ${where.join(' AND ')}))`;
}

function coerce(v: unknown, kind: FieldKind, path: string): unknown {
  switch (kind) {
    case 'bool':
      if (typeof v !== 'boolean') throw new FilterError('must be true or false', path);
      return v;
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new FilterError('must be an integer', path);
      return v;
    case 'time':
      if (typeof v !== 'string' || Number.isNaN(Date.parse(v)))
        throw new FilterError('must be an ISO 8601 time', path);
      return new Date(v).toISOString();
    case 'text':
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw new FilterError('must be a string, number or boolean', path);
      }
      return String(v);
  }
}

class Params {
  readonly values: unknown[] = [];
  constructor(private readonly offset: number) {}
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.offset + this.values.length}`;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
