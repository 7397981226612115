// Merge fields in template texts: {{name}}, {{email}}, {{attr.KEY}}. Unknown
// fields render empty rather than leaking the placeholder to a recipient.
export interface MergeLead {
  id: number;
  name: string;
  email?: string | null;
  attributes: Record<string, unknown>;
}

const FIELD = /\{\{\s*([a-zA-Z_][\w.]*)\s*\}\}/g;

export function personalize(text: string, lead: MergeLead, escape: (s: string) => string = (s) => s): string {
  return text.replace(FIELD, (_m, field: string) => escape(fieldValue(field, lead)));
}

function fieldValue(field: string, lead: MergeLead): string {
  if (field === 'name') return lead.name;
  if (field === 'email') return lead.email ?? '';
  if (field === 'id') return String(lead.id);
  if (field.startsWith('attr.')) {
    const v = lead.attributes[field.slice(5)];
    return v === undefined || v === null ? '' : String(v);
  }
  return '';
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
