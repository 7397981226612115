// Typed search attributes of a wizard run, kept current by the workflow so
// operators can filter runs in the Temporal UI. Registered by dev/start (the
// dev server's --search-attribute flags) and, in production, once per
// namespace with `temporal operator search-attribute create` (see README).
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const WIZARD_RUN_ID = defineSearchAttributeKey('WizardRunId', SearchAttributeType.KEYWORD);
export const WIZARD_CHANNEL = defineSearchAttributeKey('WizardChannel', SearchAttributeType.KEYWORD);
export const WIZARD_STATUS = defineSearchAttributeKey('WizardStatus', SearchAttributeType.KEYWORD);
export const WIZARD_SCHEDULED_AT = defineSearchAttributeKey(
  'WizardScheduledAt',
  SearchAttributeType.DATETIME,
);

/** name=Type pairs as the Temporal CLI takes them. */
export const SEARCH_ATTRIBUTE_DEFINITIONS: ReadonlyArray<[string, string]> = [
  ['WizardRunId', 'Keyword'],
  ['WizardChannel', 'Keyword'],
  ['WizardStatus', 'Keyword'],
  ['WizardScheduledAt', 'Datetime'],
];
