// Wire encoding of an SMS body for submit_sm: data_coding, short_message bytes and the
// concatenation UDH. The `smpp` package would encode strings itself, but it labels GSM
// text as data_coding 0x01 (IA5) and does not split; so bodies go to it as ready Buffers.
import { smsEncoding, splitSegments } from '../../domain/sms-segments';

export const DATA_CODING_GSM7 = 0x00; // SMSC default alphabet: GSM 03.38
export const DATA_CODING_UCS2 = 0x08;
export const ESM_CLASS_DEFAULT = 0x00;
export const ESM_CLASS_UDHI = 0x40;

// GSM 03.38 default alphabet in code order (0x00–0x7F); 0x1B is the escape to the
// extension table and stands in this string as \x1B.
const GSM7_TABLE =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1BÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_ESCAPE = 0x1b;
const GSM7_CODES: ReadonlyMap<string, number> = new Map(Array.from(GSM7_TABLE, (ch, code) => [ch, code]));
const GSM7_EXTENSION_CODES: ReadonlyMap<string, number> = new Map([
  ['\f', 0x0a],
  ['^', 0x14],
  ['{', 0x28],
  ['}', 0x29],
  ['\\', 0x2f],
  ['[', 0x3c],
  ['~', 0x3d],
  [']', 0x3e],
  ['|', 0x40],
  ['€', 0x65],
]);

/**
 * GSM 03.38 as SMPP carries it with data_coding 0: one septet per octet, unpacked (the
 * SMSC packs for the air interface), extension characters as ESC + code.
 */
export function encodeGsm7(text: string): Buffer {
  const out: number[] = [];
  for (const ch of text) {
    const code = GSM7_CODES.get(ch);
    if (code !== undefined && code !== GSM7_ESCAPE) {
      out.push(code);
      continue;
    }
    const ext = GSM7_EXTENSION_CODES.get(ch);
    if (ext === undefined)
      throw new Error(`character ${JSON.stringify(ch)} is not in the GSM 03.38 alphabet`);
    out.push(GSM7_ESCAPE, ext);
  }
  return Buffer.from(out);
}

/** UCS-2 as SMPP means it in practice: UTF-16BE, so astral characters travel as surrogate pairs. */
export function encodeUcs2(text: string): Buffer {
  return Buffer.from(text, 'utf16le').swap16();
}

/** 6-byte concatenation UDH: length 5, IEI 0x00 (8-bit reference), IE length 3, ref, total, seq. */
export function concatenationUdh(ref: number, total: number, seq: number): Buffer {
  return Buffer.from([0x05, 0x00, 0x03, ref & 0xff, total, seq]);
}

export interface SubmitPart {
  dataCoding: number;
  esmClass: number;
  shortMessage: Buffer;
  /** The part's own text, for logs. */
  text: string;
}

/** The UDH's total and seq are single octets. */
export const MAX_CONCATENATED_PARTS = 255;

/**
 * The submit_sm bodies for a text, split exactly as domain/sms-segments counts parts
 * (153 septets / 67 UCS-2 units per part, an escape or surrogate pair never cut), so
 * billing and pre-error checks agree with what is sent. `ref` identifies the message
 * for the handset's reassembly.
 */
export function buildSubmitParts(text: string, ref: number): SubmitPart[] {
  const encoding = smsEncoding(text);
  const dataCoding = encoding === 'gsm7' ? DATA_CODING_GSM7 : DATA_CODING_UCS2;
  const encode = encoding === 'gsm7' ? encodeGsm7 : encodeUcs2;
  const segments = splitSegments(text);
  if (segments.length > MAX_CONCATENATED_PARTS) {
    throw new RangeError(
      `a message of ${segments.length} parts cannot be concatenated (max ${MAX_CONCATENATED_PARTS})`,
    );
  }
  if (segments.length === 1) {
    return [{ dataCoding, esmClass: ESM_CLASS_DEFAULT, shortMessage: encode(text), text }];
  }
  return segments.map((segment, i) => ({
    dataCoding,
    esmClass: ESM_CLASS_UDHI,
    shortMessage: Buffer.concat([concatenationUdh(ref, segments.length, i + 1), encode(segment)]),
    text: segment,
  }));
}
