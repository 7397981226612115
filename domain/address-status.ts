// Address statuses as operators set them (issue 18): an email address or a
// phone number is blocklisted (never sent to), allowlisted (sent to despite
// its errors), quarantined (held back like after repeated errors) or released
// (valid again). Addresses are kept normalized, as the target rules compare
// them: an email in lower case, a phone number as the digits of its
// international form (domain/target-exclusions.ts SMS dedupe key).
import { textProblem } from './input-limits';
import type { RowError } from './lead-csv';

export const ADDRESS_CHANNELS = ['email', 'sms'] as const;
export type AddressChannel = (typeof ADDRESS_CHANNELS)[number];

/** What an operator may set; `valid` releases a quarantine or lifts a list entry. */
export const OPERATOR_STATUSES = ['blocklisted', 'allowlisted', 'quarantined', 'valid'] as const;
export type OperatorStatus = (typeof OPERATOR_STATUSES)[number];

/** Every status an address can have (the others come from delivery errors). */
export const ADDRESS_STATUSES = ['valid', 'erroneous', 'quarantined', 'blocklisted', 'allowlisted'] as const;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * The stored form of an address, or an error message. A phone number: "+" or
 * "00" starts an international number, a leading 0 a national one in the
 * country of `countryCallingCode`.
 */
export function normalizeAddress(
  channel: AddressChannel,
  raw: string,
  countryCallingCode = '81',
): { address: string } | { error: string } {
  const v = raw.trim();
  if (channel === 'email') {
    if (!EMAIL.test(v) || v.length > 254) return { error: `"${v}" is not an email address` };
    return { address: v.toLowerCase() };
  }
  if (!/^[+0-9() -]{4,32}$/.test(v)) return { error: `"${v}" is not a phone number` };
  const digits = v.replace(/\D/g, '');
  if (v.startsWith('+')) return { address: digits };
  if (digits.startsWith('00')) return { address: digits.slice(2) };
  if (digits.startsWith('0')) return { address: countryCallingCode + digits.slice(1) };
  return { address: digits };
}

/** The channel an address belongs to when the file does not say: an @ makes it email. */
export function channelOfAddress(raw: string): AddressChannel {
  return raw.includes('@') ? 'email' : 'sms';
}

export interface ImportedAddress {
  row: number;
  channel: AddressChannel;
  address: string;
  status: OperatorStatus;
  note: string;
}

export const ADDRESS_CSV_COLUMNS = ['address', 'status', 'channel', 'reason'] as const;

/** The header's problems: `address` and `status` are required, other columns unknown. */
export function addressCsvHeaderErrors(names: readonly string[]): RowError[] {
  const errors: RowError[] = [];
  for (const required of ['address', 'status'])
    if (!names.includes(required))
      errors.push({ row: 1, field: required, message: `the column "${required}" is required` });
  names.forEach((n) => {
    if (!(ADDRESS_CSV_COLUMNS as readonly string[]).includes(n))
      errors.push({
        row: 1,
        field: n || '(empty)',
        message: `unknown column; the columns are ${ADDRESS_CSV_COLUMNS.join(', ')}`,
      });
  });
  return errors;
}

/** One row of an address CSV, or null with its problems added to `errors`. */
export function readAddressRow(
  cells: string[],
  names: readonly string[],
  rowNo: number,
  errors: RowError[],
  countryCallingCode = '81',
): ImportedAddress | null {
  if (cells.length !== names.length) {
    errors.push({
      row: rowNo,
      field: 'row',
      message: `has ${cells.length} cells, the header ${names.length}`,
    });
    return null;
  }
  const get = (c: string) => cells[names.indexOf(c)] ?? '';
  for (let j = 0; j < cells.length; j++) {
    const issue = textProblem(cells[j]!);
    if (issue) {
      errors.push({ row: rowNo, field: names[j]!, message: issue });
      return null;
    }
  }
  const raw = get('address');
  const channelCell = get('channel').trim().toLowerCase();
  if (channelCell !== '' && !(ADDRESS_CHANNELS as readonly string[]).includes(channelCell)) {
    errors.push({ row: rowNo, field: 'channel', message: `"${channelCell}" is not email or sms` });
    return null;
  }
  const channel = (channelCell || channelOfAddress(raw)) as AddressChannel;
  const status = get('status').trim().toLowerCase();
  if (!(OPERATOR_STATUSES as readonly string[]).includes(status)) {
    errors.push({
      row: rowNo,
      field: 'status',
      message: `"${status}" is not one of ${OPERATOR_STATUSES.join(', ')}`,
    });
    return null;
  }
  const note = get('reason').trim();
  if (note.length > 500) {
    errors.push({ row: rowNo, field: 'reason', message: 'at most 500 characters' });
    return null;
  }
  const n = normalizeAddress(channel, raw, countryCallingCode);
  if ('error' in n) {
    errors.push({ row: rowNo, field: 'address', message: n.error });
    return null;
  }
  return { row: rowNo, channel, address: n.address, status: status as OperatorStatus, note };
}
