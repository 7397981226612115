// The bytes of an imported CSV turned into text: UTF-8 (with or without BOM),
// UTF-16 with BOM, or Shift_JIS as Excel writes it in Japan (Windows code page
// 932, a superset of Shift_JIS with NEC and IBM extensions such as ① and 髙).
// The encoding is the request's charset when it names one, else detected:
// a BOM, else valid UTF-8, else CP932. iconv-lite replaces bytes it cannot
// decode with U+FFFD and says nothing, so `lossy` tells the caller whether
// that happened; the caller then refuses the file naming the cell.
import iconv from 'iconv-lite';

export type CsvEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'cp932';

const LABELS: Record<string, CsvEncoding> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'utf-16': 'utf-16le',
  'utf-16le': 'utf-16le',
  'utf-16be': 'utf-16be',
  // Files labelled Shift_JIS are CP932 in practice (Excel, Windows): read them as such.
  shift_jis: 'cp932',
  'shift-jis': 'cp932',
  sjis: 'cp932',
  'x-sjis': 'cp932',
  'windows-31j': 'cp932',
  cp932: 'cp932',
  ms932: 'cp932',
  ms_kanji: 'cp932',
};

export const CSV_CHARSETS = Object.keys(LABELS);

/** The encoding a charset label names, or null when it is not one the import reads. */
export function csvEncodingOf(label: string): CsvEncoding | null {
  return LABELS[label.trim().toLowerCase()] ?? null;
}

function bomOf(bytes: Uint8Array): { encoding: CsvEncoding; length: number } | null {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { encoding: 'utf-8', length: 3 };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { encoding: 'utf-16le', length: 2 };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { encoding: 'utf-16be', length: 2 };
  return null;
}

function isUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

export interface DecodedCsv {
  text: string;
  encoding: CsvEncoding;
  /** Some bytes did not decode: the text holds U+FFFD where they were. */
  lossy: boolean;
}

/**
 * Decode with the named encoding (null: detect). A BOM is dropped; a BOM that
 * contradicts a Unicode charset given loses to the BOM (it is in the bytes).
 */
export function decodeCsv(bytes: Buffer, given: CsvEncoding | null): DecodedCsv {
  const bom = bomOf(bytes);
  let encoding: CsvEncoding;
  let body = bytes;
  if (bom && (given === null || given !== 'cp932')) {
    encoding = bom.encoding;
    body = bytes.subarray(bom.length);
  } else encoding = given ?? (isUtf8(bytes) ? 'utf-8' : 'cp932');
  const text = iconv.decode(body, encoding, { stripBOM: false });
  let lossy: boolean;
  if (encoding === 'cp932') {
    // No CP932 byte sequence stands for U+FFFD, so any is a byte that did not decode.
    // (A round trip would not do: CP932 maps some characters twice, e.g. NEC and IBM 纊.)
    lossy = text.includes('\uFFFD');
  } else {
    // UTF-8 and UTF-16 map one to one: valid bytes come back the same.
    lossy = !iconv.encode(text, encoding).equals(body);
  }
  return { text, encoding, lossy };
}
