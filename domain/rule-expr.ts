// Rules as data: a small expression language in which domain/ writes the
// rules that production runs inside PostgreSQL (target exclusions, validity
// counters, the MX breaker, the mailbox-full release). One expression has two
// readings that must agree, which test/integration/rules-differential.test.ts
// checks case by case against a real database:
//
//   evaluateRule(expr, inputs)   the rule in TypeScript, with SQL's three-valued
//                                logic (null = unknown), for the domain functions;
//   compileRule(expr, bindings)  the same rule as an SQL expression over the
//                                columns and placeholders the caller binds.
//
// Only what both readings mean alike is in the language: regular expressions
// stay in the subset JavaScript and PostgreSQL read the same way (no classes
// such as [:space:] or \s whose meaning follows the database's locale), text
// is compared for equality only (ordering follows collation), and `lower`
// folds A-Z only, as PostgreSQL's lower() does under the C locale our
// databases are created with (dev/embedded-postgres.ts).

export type RuleValue = string | number | boolean | null;

export type Rule =
  | { kind: 'input'; name: string }
  | { kind: 'literal'; value: RuleValue }
  | { kind: 'not'; arg: Rule }
  | { kind: 'and' | 'or'; args: readonly Rule[] }
  | { kind: 'isNull'; arg: Rule }
  | { kind: 'compare'; op: '=' | '<>' | '<' | '<=' | '>' | '>='; left: Rule; right: Rule }
  | { kind: 'oneOf'; arg: Rule; values: readonly string[] }
  | { kind: 'plus' | 'divide'; left: Rule; right: Rule }
  | { kind: 'before'; time: Rule; amount: Rule; unit: 'hours' | 'days' }
  | { kind: 'matches'; arg: Rule; pattern: string }
  | { kind: 'digitsOnly' | 'lower' | 'blankToNull' | 'emptyToNull'; arg: Rule }
  | { kind: 'from'; arg: Rule; position: number }
  | { kind: 'concat'; left: Rule; right: Rule }
  | { kind: 'coalesce'; args: readonly Rule[] }
  | { kind: 'choose'; cases: ReadonlyArray<{ when: Rule; then: Rule }>; otherwise: Rule };

// Builders, so rules read close to their SQL.
export const input = (name: string): Rule => ({ kind: 'input', name });
export const literal = (value: RuleValue): Rule => ({ kind: 'literal', value });
export const not = (arg: Rule): Rule => ({ kind: 'not', arg });
export const and = (...args: Rule[]): Rule => ({ kind: 'and', args });
export const or = (...args: Rule[]): Rule => ({ kind: 'or', args });
export const isNull = (arg: Rule): Rule => ({ kind: 'isNull', arg });
export const compare = (left: Rule, op: '=' | '<>' | '<' | '<=' | '>' | '>=', right: Rule): Rule => ({
  kind: 'compare',
  op,
  left,
  right,
});
export const oneOf = (arg: Rule, values: readonly string[]): Rule => ({ kind: 'oneOf', arg, values });
export const plus = (left: Rule, right: Rule): Rule => ({ kind: 'plus', left, right });
/** Division in floating point (both sides read as double precision). */
export const divide = (left: Rule, right: Rule): Rule => ({ kind: 'divide', left, right });
/** A time (epoch milliseconds in TypeScript, timestamptz in SQL) minus hours or days of exactly 24 hours. */
export const before = (time: Rule, amount: Rule, unit: 'hours' | 'days'): Rule => ({
  kind: 'before',
  time,
  amount,
  unit,
});
export const matches = (arg: Rule, pattern: string): Rule => ({ kind: 'matches', arg, pattern });
export const digitsOnly = (arg: Rule): Rule => ({ kind: 'digitsOnly', arg });
export const lower = (arg: Rule): Rule => ({ kind: 'lower', arg });
/** SQL nullif(btrim(x), ''): spaces (U+0020 only) trimmed, then empty = null. */
export const blankToNull = (arg: Rule): Rule => ({ kind: 'blankToNull', arg });
/** SQL nullif(x, ''). */
export const emptyToNull = (arg: Rule): Rule => ({ kind: 'emptyToNull', arg });
/** The text from a 1-based position on (SQL substr(x, n)). */
export const from = (arg: Rule, position: number): Rule => ({ kind: 'from', arg, position });
export const concat = (left: Rule, right: Rule): Rule => ({ kind: 'concat', left, right });
export const coalesce = (...args: Rule[]): Rule => ({ kind: 'coalesce', args });
export const choose = (
  cases: ReadonlyArray<{ when: Rule; then: Rule }>,
  otherwise: Rule = literal(null),
): Rule => ({
  kind: 'choose',
  cases,
  otherwise,
});

export type RuleInputs = Readonly<Record<string, RuleValue>>;

const UNIT_SECONDS = { hours: 3600, days: 86400 } as const;

/** The rule's value for one set of inputs, with SQL's null semantics. */
export function evaluateRule(rule: Rule, inputs: RuleInputs): RuleValue {
  const ev = (r: Rule) => evaluateRule(r, inputs);
  switch (rule.kind) {
    case 'input': {
      if (!Object.prototype.hasOwnProperty.call(inputs, rule.name)) {
        throw new Error(`rule input "${rule.name}" is not given`);
      }
      return inputs[rule.name] ?? null;
    }
    case 'literal':
      return rule.value;
    case 'not': {
      const v = ev(rule.arg);
      return v === null ? null : !truth(v);
    }
    case 'and': {
      let unknown = false;
      for (const a of rule.args) {
        const v = ev(a);
        if (v === null) unknown = true;
        else if (!truth(v)) return false;
      }
      return unknown ? null : true;
    }
    case 'or': {
      let unknown = false;
      for (const a of rule.args) {
        const v = ev(a);
        if (v === null) unknown = true;
        else if (truth(v)) return true;
      }
      return unknown ? null : false;
    }
    case 'isNull':
      return ev(rule.arg) === null;
    case 'compare': {
      const l = ev(rule.left);
      const r = ev(rule.right);
      if (l === null || r === null) return null;
      if (typeof l === 'string' && rule.op !== '=' && rule.op !== '<>') {
        throw new Error('text is compared for equality only (ordering would follow the collation)');
      }
      switch (rule.op) {
        case '=':
          return l === r;
        case '<>':
          return l !== r;
        case '<':
          return l < r;
        case '<=':
          return l <= r;
        case '>':
          return l > r;
        case '>=':
          return l >= r;
      }
      break;
    }
    case 'oneOf': {
      const v = ev(rule.arg);
      return v === null ? null : rule.values.includes(String(v));
    }
    case 'plus':
    case 'divide': {
      const l = ev(rule.left);
      const r = ev(rule.right);
      if (l === null || r === null) return null;
      if (rule.kind === 'plus') return num(l) + num(r);
      if (num(r) === 0) throw new RangeError('division by zero');
      return num(l) / num(r);
    }
    case 'before': {
      const t = ev(rule.time);
      const n = ev(rule.amount);
      return t === null || n === null ? null : num(t) - num(n) * UNIT_SECONDS[rule.unit] * 1000;
    }
    case 'matches': {
      const v = ev(rule.arg);
      return v === null ? null : new RegExp(portablePattern(rule.pattern)).test(String(v));
    }
    case 'digitsOnly': {
      const v = ev(rule.arg);
      return v === null ? null : String(v).replace(/[^0-9]/g, '');
    }
    case 'lower': {
      const v = ev(rule.arg);
      return v === null ? null : String(v).replace(/[A-Z]/g, (c) => c.toLowerCase());
    }
    case 'blankToNull': {
      const v = ev(rule.arg);
      if (v === null) return null;
      const trimmed = String(v).replace(/^ +| +$/g, '');
      return trimmed === '' ? null : trimmed;
    }
    case 'emptyToNull': {
      const v = ev(rule.arg);
      return v === '' ? null : v;
    }
    case 'from': {
      const v = ev(rule.arg);
      return v === null ? null : String(v).slice(rule.position - 1);
    }
    case 'concat': {
      const l = ev(rule.left);
      const r = ev(rule.right);
      return l === null || r === null ? null : String(l) + String(r);
    }
    case 'coalesce': {
      for (const a of rule.args) {
        const v = ev(a);
        if (v !== null) return v;
      }
      return null;
    }
    case 'choose': {
      for (const c of rule.cases) if (ev(c.when) === true) return ev(c.then);
      return ev(rule.otherwise);
    }
  }
  throw new Error(`unknown rule kind ${(rule as { kind: string }).kind}`);
}

/** SQL text for each input name: a column (`l.email`), an expression, or a typed placeholder (`$4::boolean`). */
export type RuleBindings = Readonly<Record<string, string>>;

/** The rule as an SQL expression; every input must be bound. Literals are inlined, quoted. */
export function compileRule(rule: Rule, bindings: RuleBindings): string {
  const c = (r: Rule) => compileRule(r, bindings);
  switch (rule.kind) {
    case 'input': {
      const sql = bindings[rule.name];
      if (sql === undefined) throw new Error(`rule input "${rule.name}" has no SQL binding`);
      return `(${sql})`;
    }
    case 'literal':
      return sqlLiteral(rule.value);
    case 'not':
      return `(NOT ${c(rule.arg)})`;
    case 'and':
    case 'or':
      if (rule.args.length === 0) return rule.kind === 'and' ? 'TRUE' : 'FALSE';
      return `(${rule.args.map(c).join(rule.kind === 'and' ? ' AND ' : ' OR ')})`;
    case 'isNull':
      return `(${c(rule.arg)} IS NULL)`;
    case 'compare':
      return `(${c(rule.left)} ${rule.op} ${c(rule.right)})`;
    case 'oneOf':
      return `(${c(rule.arg)} IN (${rule.values.map(sqlLiteral).join(', ')}))`;
    case 'plus':
      return `(${c(rule.left)} + ${c(rule.right)})`;
    case 'divide':
      return `(${c(rule.left)}::float8 / ${c(rule.right)}::float8)`;
    case 'before':
      return `(${c(rule.time)} - make_interval(secs => ${c(rule.amount)} * ${UNIT_SECONDS[rule.unit]}))`;
    case 'matches':
      return `(${c(rule.arg)} ~ ${sqlLiteral(portablePattern(rule.pattern))})`;
    case 'digitsOnly':
      return `regexp_replace(${c(rule.arg)}, '[^0-9]', '', 'g')`;
    case 'lower':
      return `lower(${c(rule.arg)})`;
    case 'blankToNull':
      return `nullif(btrim(${c(rule.arg)}), '')`;
    case 'emptyToNull':
      return `nullif(${c(rule.arg)}, '')`;
    case 'from':
      return `substr(${c(rule.arg)}, ${rule.position})`;
    case 'concat':
      return `(${c(rule.left)} || ${c(rule.right)})`;
    case 'coalesce':
      return `coalesce(${rule.args.map(c).join(', ')})`;
    case 'choose':
      if (rule.cases.length === 0) return c(rule.otherwise);
      return `(CASE ${rule.cases.map((k) => `WHEN ${c(k.when)} THEN ${c(k.then)}`).join(' ')} ELSE ${c(rule.otherwise)} END)`;
  }
  throw new Error(`unknown rule kind ${(rule as { kind: string }).kind}`);
}

/** The inputs a rule reads, for checking that a caller binds them all. */
export function ruleInputs(rule: Rule, into: Set<string> = new Set()): Set<string> {
  const walk = (r: Rule) => ruleInputs(r, into);
  switch (rule.kind) {
    case 'input':
      into.add(rule.name);
      break;
    case 'literal':
      break;
    case 'and':
    case 'or':
    case 'coalesce':
      rule.args.forEach(walk);
      break;
    case 'compare':
    case 'plus':
    case 'divide':
    case 'concat':
      walk(rule.left);
      walk(rule.right);
      break;
    case 'before':
      walk(rule.time);
      walk(rule.amount);
      break;
    case 'choose':
      rule.cases.forEach((k) => {
        walk(k.when);
        walk(k.then);
      });
      walk(rule.otherwise);
      break;
    default:
      walk(rule.arg);
  }
  return into;
}

function truth(v: RuleValue): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`a condition must be true, false or null, got ${typeof v}`);
  return v;
}

function num(v: RuleValue): number {
  if (typeof v !== 'number') throw new TypeError(`a number was expected, got ${typeof v}`);
  return v;
}

/**
 * Patterns are written in the subset both engines read alike: anchors,
 * literal characters, bracket lists and ranges of ASCII characters, `+`, `*`,
 * `?`, `{n}`, `\.`, `\+`, `\t` `\n` `\v` `\f` `\r`. Locale-dependent classes
 * are refused rather than read two ways.
 */
function portablePattern(pattern: string): string {
  if (/\[:|\\[dDsSwWbBpP]|\(\?/.test(pattern)) {
    throw new Error(
      `pattern ${pattern} uses a class whose meaning differs between JavaScript and PostgreSQL`,
    );
  }
  return pattern;
}

function sqlLiteral(value: RuleValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`literal ${value} has no SQL form`);
    return String(value);
  }
  // standard_conforming_strings is on (the default since PostgreSQL 9.1): only quotes need doubling.
  return `'${value.replace(/'/g, "''")}'`;
}
