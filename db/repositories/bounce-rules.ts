// Bounce qualification rules as the API lists and edits them (db/bounce-rule-queries holds the SQL).
import type { Pool } from 'pg';
import type { ValidityThresholds } from '../../domain/validity';
import {
  getBounceRuleRow,
  insertUserRule,
  listBounceRuleRows,
  requalify,
  resetOccurrences,
  updateUserRule,
  type RuleInput,
} from '../bounce-rule-queries';

export function bounceRuleRepository(pool: Pool) {
  return {
    list: (state: string | undefined, limit: number) => listBounceRuleRows(pool, state, limit),
    get: (id: number) => getBounceRuleRow(pool, id),
    insert: (r: RuleInput) => insertUserRule(pool, r),
    update: (id: number, r: RuleInput) => updateUserRule(pool, id, r),
    requalify: (thresholds: number | ValidityThresholds) => requalify(pool, thresholds),
    resetOccurrences: (id: number, by: string | null) => resetOccurrences(pool, id, by),
  };
}

export type BounceRuleRepository = ReturnType<typeof bounceRuleRepository>;
