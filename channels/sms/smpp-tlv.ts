// TLVs read by their length. The `smpp` package reads a C-octet-string TLV (such as
// receipted_message_id) up to the next NUL, ignoring the TLV's length: an SMSC that leaves
// the terminator out (several do) then gets the next TLV's tag glued to the id
// ("1F4A90E\u0004'"), and the receipt matches no submit. SMPP 3.4 §3.4 makes the length
// authoritative, so the value is taken within it, up to a NUL when one is present.
import { addTLV, tlvs, types, type TlvType } from 'smpp';

const lengthBoundedCString: TlvType = {
  read(buffer, offset, length) {
    const value = buffer.subarray(offset, offset + length);
    const nul = value.indexOf(0);
    return value.toString('latin1', 0, nul >= 0 ? nul : value.length);
  },
  write(value, buffer, offset) {
    const bytes = Buffer.isBuffer(value) ? value : Buffer.from(String(value), 'latin1');
    bytes.copy(buffer, offset);
    buffer[offset + bytes.length] = 0;
  },
  size(value) {
    return (Buffer.isBuffer(value) ? value.length : Buffer.byteLength(String(value), 'latin1')) + 1;
  },
  default: '',
};

let installed = false;

/**
 * Replaces the package's reader of every C-octet-string TLV with one bounded by the TLV's
 * length. Process-wide (the package keeps one table) and idempotent; values written are
 * unchanged (still NUL-terminated).
 */
export function readCStringTlvsByLength(): void {
  if (installed) return;
  installed = true;
  const cstring = types.tlv.cstring;
  for (const [tag, def] of Object.entries(tlvs)) {
    if (def.type === cstring) addTLV(tag, { ...def, type: lengthBoundedCString });
  }
}
