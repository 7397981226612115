// Typed search attributes of a wizard run, kept current by the workflow so
// operators can filter runs in the Temporal UI. Registered by dev/start (the
// dev server's --search-attribute flags) and, in production, once per
// namespace with `temporal operator search-attribute create` (see README).
// Written as plain keys (what @temporalio/common's defineSearchAttributeKey
// returns), so workflow code imports nothing but @temporalio/workflow.

export const WIZARD_RUN_ID = { name: 'WizardRunId', type: 'KEYWORD' } as const;
export const WIZARD_CHANNEL = { name: 'WizardChannel', type: 'KEYWORD' } as const;
export const WIZARD_STATUS = { name: 'WizardStatus', type: 'KEYWORD' } as const;
export const WIZARD_SCHEDULED_AT = { name: 'WizardScheduledAt', type: 'DATETIME' } as const;

/** name=Type pairs as the Temporal CLI takes them. */
export const SEARCH_ATTRIBUTE_DEFINITIONS: ReadonlyArray<[string, string]> = [
  ['WizardRunId', 'Keyword'],
  ['WizardChannel', 'Keyword'],
  ['WizardStatus', 'Keyword'],
  ['WizardScheduledAt', 'Datetime'],
];
