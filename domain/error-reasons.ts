// Error types and reasons (SPEC §5, from the second seed). Pure data: safe to import from workflow code.

export type ErrorType = 'hard' | 'soft' | 'ignored' | 'undefined';

export type ErrorReason =
  | 'unknown_user'
  | 'invalid_domain'
  | 'unreachable'
  | 'invalid_account'
  | 'mailbox_full'
  | 'not_connected'
  | 'address_not_specified'
  | 'blocklisted'
  | 'quarantined'
  | 'duplicate'
  | 'excluded_by_sql'
  | 'excluded_after_arbitration'
  | 'poor_quality'
  | 'unqualified'
  | 'not_eligible'
  | 'target_size_limited'
  | 'refused'
  | 'ignored_error'
  | 'control_address'
  | 'undefined';

export interface ErrorReasonInfo {
  /** The seed's "technical value", stable across releases: store and export it, never renumber. */
  technicalValue: number;
  /** The type used when a rule does not say otherwise; for "soft / hard" reasons it is the softer one. */
  defaultType: ErrorType;
  /** Every type the seed allows for this reason ("soft / hard" reasons may be either, decided by the reply). */
  types: readonly ErrorType[];
  /** The reason in English, as the seed's label reads. */
  label: string;
}

export const ERROR_REASONS: Readonly<Record<ErrorReason, ErrorReasonInfo>> = {
  unknown_user: { technicalValue: 1, defaultType: 'hard', types: ['hard'], label: 'unknown user' },
  invalid_domain: {
    technicalValue: 2,
    defaultType: 'soft',
    types: ['soft', 'hard'],
    label: 'invalid domain',
  },
  unreachable: { technicalValue: 3, defaultType: 'soft', types: ['soft', 'hard'], label: 'unreachable' },
  invalid_account: {
    technicalValue: 4,
    defaultType: 'soft',
    types: ['soft', 'hard'],
    label: 'invalid account',
  },
  mailbox_full: { technicalValue: 5, defaultType: 'soft', types: ['soft'], label: 'mailbox full' },
  not_connected: { technicalValue: 6, defaultType: 'ignored', types: ['ignored'], label: 'not connected' },
  address_not_specified: {
    technicalValue: 7,
    defaultType: 'hard',
    types: ['hard'],
    label: 'address not specified',
  },
  blocklisted: { technicalValue: 8, defaultType: 'hard', types: ['hard'], label: 'blocklisted address' },
  quarantined: { technicalValue: 9, defaultType: 'hard', types: ['hard'], label: 'quarantined address' },
  duplicate: { technicalValue: 10, defaultType: 'ignored', types: ['ignored'], label: 'duplicate' },
  excluded_by_sql: {
    technicalValue: 11,
    defaultType: 'ignored',
    types: ['ignored'],
    label: 'excluded by SQL rule',
  },
  excluded_after_arbitration: {
    technicalValue: 12,
    defaultType: 'ignored',
    types: ['ignored'],
    label: 'excluded after arbitration',
  },
  poor_quality: {
    technicalValue: 14,
    defaultType: 'ignored',
    types: ['ignored'],
    label: 'poor-quality address',
  },
  unqualified: {
    technicalValue: 15,
    defaultType: 'ignored',
    types: ['ignored'],
    label: 'unqualified address',
  },
  not_eligible: {
    technicalValue: 16,
    defaultType: 'ignored',
    types: ['ignored'],
    label: 'not eligible for offers',
  },
  target_size_limited: {
    technicalValue: 17,
    defaultType: 'ignored',
    types: ['ignored'],
    label: 'target size limited',
  },
  refused: { technicalValue: 20, defaultType: 'soft', types: ['soft', 'hard'], label: 'refused' },
  ignored_error: { technicalValue: 25, defaultType: 'ignored', types: ['ignored'], label: 'ignored error' },
  control_address: {
    technicalValue: 127,
    defaultType: 'ignored',
    types: ['ignored'],
    label: 'control address',
  },
  undefined: { technicalValue: 0, defaultType: 'undefined', types: ['undefined'], label: 'undefined' },
};

export const ERROR_TYPES: readonly ErrorType[] = ['hard', 'soft', 'ignored', 'undefined'];

export const ERROR_REASON_NAMES = Object.keys(ERROR_REASONS) as readonly ErrorReason[];

export function isErrorReason(value: unknown): value is ErrorReason {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_REASONS, value);
}

export function isErrorType(value: unknown): value is ErrorType {
  return typeof value === 'string' && (ERROR_TYPES as readonly string[]).includes(value);
}

/** The reason stored under a technical value (e.g. read back from an export), or null when none has it. */
export function errorReasonByTechnicalValue(technicalValue: number): ErrorReason | null {
  return ERROR_REASON_NAMES.find((reason) => ERROR_REASONS[reason].technicalValue === technicalValue) ?? null;
}
