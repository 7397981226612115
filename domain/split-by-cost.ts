// Cutting a text into pieces of bounded cost without splitting a character:
// SMS parts (units per part) and MIME encoded words (UTF-8 bytes per word).

/** Split `text` into consecutive pieces whose summed per-character cost stays within `max`. */
export function splitByCost(text: string, max: number, cost: (ch: string) => number): string[] {
  const pieces: string[] = [];
  let current = '';
  let used = 0;
  for (const ch of text) {
    const c = cost(ch);
    if (used + c > max && current !== '') {
      pieces.push(current);
      current = '';
      used = 0;
    }
    current += ch;
    used += c;
  }
  if (current !== '') pieces.push(current);
  return pieces;
}
