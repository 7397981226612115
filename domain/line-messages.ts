// Validation of the LINE message objects a template holds (SPEC §1 "LINE: message objects"), against the limits
// LINE publishes in its Messaging API reference. A template that passes here is one LINE will not reject for shape;
// what it says after personalization is checked again when it is rendered.
// Pure: safe to import from workflow code.

export const LINE_LIMITS = {
  messagesPerPush: 5,
  /** Counted in UTF-16 code units, as LINE counts them (so a surrogate-pair emoji costs 2). */
  textChars: 5000,
  emojisPerText: 20,
  urlChars: 2000,
  altTextChars: 1500,
  carouselBubbles: 12,
  /** JSON size of one flex container, in bytes. */
  bubbleBytes: 30 * 1024,
  carouselBytes: 50 * 1024,
  actionUriChars: 1000,
  actionLabelChars: 40,
  postbackDataChars: 300,
} as const;

export const SUPPORTED_LINE_MESSAGE_TYPES = ['text', 'sticker', 'image', 'flex'] as const;
export type LineMessageType = (typeof SUPPORTED_LINE_MESSAGE_TYPES)[number];

export interface LineEmoji {
  index: number;
  productId: string;
  emojiId: string;
}

export interface LineTextMessage {
  type: 'text';
  text: string;
  emojis?: LineEmoji[];
}

export interface LineStickerMessage {
  type: 'sticker';
  packageId: string;
  stickerId: string;
}

export interface LineImageMessage {
  type: 'image';
  originalContentUrl: string;
  previewImageUrl: string;
}

export interface LineFlexMessage {
  type: 'flex';
  altText: string;
  /** A bubble or carousel container, checked structurally. */
  contents: Record<string, unknown>;
}

/** Common properties (quickReply, sender) ride along unchecked. */
export type LineMessage = LineTextMessage | LineStickerMessage | LineImageMessage | LineFlexMessage;

export interface LineMessageError {
  /** Where, in LINE's own notation: 'messages[1].contents.body.contents[0].url'. */
  path: string;
  message: string;
}

export type LineMessagesCheck =
  { ok: true; messages: LineMessage[] } | { ok: false; errors: LineMessageError[] };

/** Checks 1..5 message objects, reporting every problem found (not only the first). */
export function validateLineMessages(value: unknown, path = 'messages'): LineMessagesCheck {
  const errors: LineMessageError[] = [];
  if (!Array.isArray(value)) {
    errors.push({ path, message: 'must be an array of message objects' });
    return { ok: false, errors };
  }
  if (value.length < 1 || value.length > LINE_LIMITS.messagesPerPush) {
    errors.push({
      path,
      message: `must hold 1 to ${LINE_LIMITS.messagesPerPush} messages, got ${value.length}`,
    });
  }
  value.forEach((m, i) => checkMessage(m, `${path}[${i}]`, errors));
  return errors.length > 0 ? { ok: false, errors } : { ok: true, messages: value as LineMessage[] };
}

/** Checks one message object; returns its errors (empty when valid). */
export function validateLineMessage(value: unknown, path = 'message'): LineMessageError[] {
  const errors: LineMessageError[] = [];
  checkMessage(value, path, errors);
  return errors;
}

/** One line for an API error or a result detail: 'messages[0].text: must not be empty; …'. */
export function describeLineMessageErrors(errors: readonly LineMessageError[]): string {
  return errors.map((e) => `${e.path}: ${e.message}`).join('; ');
}

function checkMessage(m: unknown, path: string, errors: LineMessageError[]): void {
  if (!isRecord(m)) {
    errors.push({ path, message: 'must be an object' });
    return;
  }
  switch (m.type) {
    case 'text':
      return checkText(m, path, errors);
    case 'sticker':
      requireString(m, 'packageId', path, errors, { digits: true });
      requireString(m, 'stickerId', path, errors, { digits: true });
      return;
    case 'image':
      checkHttpsUrl(m.originalContentUrl, `${path}.originalContentUrl`, errors);
      checkHttpsUrl(m.previewImageUrl, `${path}.previewImageUrl`, errors);
      return;
    case 'flex':
      return checkFlex(m, path, errors);
    default:
      errors.push({
        path: `${path}.type`,
        message:
          m.type === undefined
            ? `is required; one of ${SUPPORTED_LINE_MESSAGE_TYPES.join(', ')}`
            : `must be one of ${SUPPORTED_LINE_MESSAGE_TYPES.join(', ')}, got ${JSON.stringify(m.type)}`,
      });
  }
}

function checkText(m: Record<string, unknown>, path: string, errors: LineMessageError[]): void {
  const text = m.text;
  if (typeof text !== 'string') {
    errors.push({ path: `${path}.text`, message: 'is required and must be a string' });
    return;
  }
  if (text.length === 0) errors.push({ path: `${path}.text`, message: 'must not be empty' });
  if (text.length > LINE_LIMITS.textChars) {
    errors.push({
      path: `${path}.text`,
      message: `must be at most ${LINE_LIMITS.textChars} characters (UTF-16 units), got ${text.length}`,
    });
  }
  if (m.emojis === undefined) return;
  if (!Array.isArray(m.emojis)) {
    errors.push({ path: `${path}.emojis`, message: 'must be an array' });
    return;
  }
  if (m.emojis.length > LINE_LIMITS.emojisPerText) {
    errors.push({
      path: `${path}.emojis`,
      message: `must hold at most ${LINE_LIMITS.emojisPerText} LINE emoji, got ${m.emojis.length}`,
    });
  }
  m.emojis.forEach((e, i) => {
    const p = `${path}.emojis[${i}]`;
    if (!isRecord(e)) {
      errors.push({ path: p, message: 'must be an object' });
      return;
    }
    requireString(e, 'productId', p, errors);
    requireString(e, 'emojiId', p, errors);
    // LINE answers 400 when an index does not point at a '$' placeholder.
    if (typeof e.index !== 'number' || !Number.isInteger(e.index) || e.index < 0) {
      errors.push({ path: `${p}.index`, message: 'must be a non-negative integer' });
    } else if (text[e.index] !== '$') {
      errors.push({
        path: `${p}.index`,
        message: `must point at a '$' placeholder in text (position ${e.index} is not '$')`,
      });
    }
  });
}

function checkFlex(m: Record<string, unknown>, path: string, errors: LineMessageError[]): void {
  const alt = m.altText;
  if (typeof alt !== 'string' || alt.length === 0) {
    errors.push({ path: `${path}.altText`, message: 'is required and must be a non-empty string' });
  } else if (alt.length > LINE_LIMITS.altTextChars) {
    errors.push({
      path: `${path}.altText`,
      message: `must be at most ${LINE_LIMITS.altTextChars} characters, got ${alt.length}`,
    });
  }
  const c = m.contents;
  const p = `${path}.contents`;
  if (!isRecord(c)) {
    errors.push({ path: p, message: 'is required and must be a bubble or carousel container' });
    return;
  }
  if (c.type === 'bubble') {
    checkSize(c, LINE_LIMITS.bubbleBytes, 'bubble', p, errors);
    checkBubble(c, p, errors);
  } else if (c.type === 'carousel') {
    checkSize(c, LINE_LIMITS.carouselBytes, 'carousel', p, errors);
    if (!Array.isArray(c.contents) || c.contents.length === 0) {
      errors.push({ path: `${p}.contents`, message: 'must be a non-empty array of bubbles' });
      return;
    }
    if (c.contents.length > LINE_LIMITS.carouselBubbles) {
      errors.push({
        path: `${p}.contents`,
        message: `must hold at most ${LINE_LIMITS.carouselBubbles} bubbles, got ${c.contents.length}`,
      });
    }
    c.contents.forEach((b, i) => {
      const bp = `${p}.contents[${i}]`;
      if (!isRecord(b) || b.type !== 'bubble') errors.push({ path: bp, message: 'must be a bubble' });
      else checkBubble(b, bp, errors);
    });
  } else {
    errors.push({
      path: `${p}.type`,
      message: `must be "bubble" or "carousel", got ${JSON.stringify(c.type)}`,
    });
  }
}

const BUBBLE_SIZES = new Set(['nano', 'micro', 'deca', 'hecto', 'kilo', 'mega', 'giga']);

function checkBubble(b: Record<string, unknown>, path: string, errors: LineMessageError[]): void {
  if (b.size !== undefined && (typeof b.size !== 'string' || !BUBBLE_SIZES.has(b.size))) {
    errors.push({ path: `${path}.size`, message: `must be one of ${[...BUBBLE_SIZES].join(', ')}` });
  }
  if (b.direction !== undefined && b.direction !== 'ltr' && b.direction !== 'rtl') {
    errors.push({ path: `${path}.direction`, message: 'must be "ltr" or "rtl"' });
  }
  for (const block of ['header', 'body', 'footer'] as const) {
    const v = b[block];
    if (v === undefined) continue;
    if (!isRecord(v) || v.type !== 'box')
      errors.push({ path: `${path}.${block}`, message: 'must be a box component' });
    else checkComponent(v, `${path}.${block}`, errors);
  }
  const hero = b.hero;
  if (hero !== undefined) {
    if (!isRecord(hero) || (hero.type !== 'box' && hero.type !== 'image' && hero.type !== 'video')) {
      errors.push({ path: `${path}.hero`, message: 'must be a box, image or video component' });
    } else {
      checkComponent(hero, `${path}.hero`, errors);
    }
  }
  if (b.action !== undefined) checkAction(b.action, `${path}.action`, errors);
}

// A video component may only be a bubble's hero, never a box child.
const BOX_CHILDREN: Record<string, ReadonlySet<string>> = {
  horizontal: new Set(['box', 'button', 'image', 'text', 'separator', 'filler']),
  vertical: new Set(['box', 'button', 'image', 'text', 'separator', 'filler']),
  baseline: new Set(['icon', 'text', 'filler']),
};

function checkComponent(c: Record<string, unknown>, path: string, errors: LineMessageError[]): void {
  switch (c.type) {
    case 'box': {
      const allowed = typeof c.layout === 'string' ? BOX_CHILDREN[c.layout] : undefined;
      if (allowed === undefined) {
        errors.push({ path: `${path}.layout`, message: 'must be "horizontal", "vertical" or "baseline"' });
      }
      if (!Array.isArray(c.contents)) {
        errors.push({
          path: `${path}.contents`,
          message: 'is required and must be an array (it may be empty)',
        });
        return;
      }
      c.contents.forEach((child, i) => {
        const cp = `${path}.contents[${i}]`;
        if (!isRecord(child) || typeof child.type !== 'string') {
          errors.push({ path: cp, message: 'must be a component object with a type' });
        } else if (allowed !== undefined && !allowed.has(child.type)) {
          errors.push({
            path: `${cp}.type`,
            message: `"${child.type}" cannot be placed in a ${String(c.layout)} box`,
          });
        } else {
          checkComponent(child, cp, errors);
        }
      });
      if (c.action !== undefined) checkAction(c.action, `${path}.action`, errors);
      return;
    }
    case 'text': {
      const hasText = typeof c.text === 'string' && c.text.length > 0;
      const hasSpans = Array.isArray(c.contents) && c.contents.length > 0;
      if (!hasText && !hasSpans)
        errors.push({ path: `${path}.text`, message: 'a text component needs text or spans in contents' });
      if (Array.isArray(c.contents)) {
        c.contents.forEach((s, i) => {
          if (!isRecord(s) || s.type !== 'span' || typeof s.text !== 'string') {
            errors.push({ path: `${path}.contents[${i}]`, message: 'must be a span with text' });
          }
        });
      }
      if (c.action !== undefined) checkAction(c.action, `${path}.action`, errors);
      return;
    }
    case 'image':
      checkHttpsUrl(c.url, `${path}.url`, errors);
      if (c.action !== undefined) checkAction(c.action, `${path}.action`, errors);
      return;
    case 'icon':
      checkHttpsUrl(c.url, `${path}.url`, errors);
      return;
    case 'video':
      checkHttpsUrl(c.url, `${path}.url`, errors);
      checkHttpsUrl(c.previewUrl, `${path}.previewUrl`, errors);
      if (!isRecord(c.altContent))
        errors.push({
          path: `${path}.altContent`,
          message: 'is required (a box or image shown where video is unsupported)',
        });
      else checkComponent(c.altContent, `${path}.altContent`, errors);
      return;
    case 'button':
      if (c.action === undefined) errors.push({ path: `${path}.action`, message: 'is required' });
      else checkAction(c.action, `${path}.action`, errors, true);
      return;
    case 'separator':
    case 'filler':
      return;
    default:
      errors.push({ path: `${path}.type`, message: `unknown flex component ${JSON.stringify(c.type)}` });
  }
}

const ACTION_TYPES = new Set([
  'postback',
  'message',
  'uri',
  'datetimepicker',
  'camera',
  'cameraRoll',
  'location',
  'richmenuswitch',
  'clipboard',
]);
const ACTION_URI = /^(https?:\/\/|line:\/\/|tel:)\S+$/i;

function checkAction(a: unknown, path: string, errors: LineMessageError[], labelRequired = false): void {
  if (!isRecord(a) || typeof a.type !== 'string' || !ACTION_TYPES.has(a.type)) {
    errors.push({
      path: `${path}.type`,
      message: `must be an action object, type one of ${[...ACTION_TYPES].join(', ')}`,
    });
    return;
  }
  if (a.label !== undefined || labelRequired) {
    if (typeof a.label !== 'string' || a.label.length === 0) {
      errors.push({ path: `${path}.label`, message: 'must be a non-empty string' });
    } else if (a.label.length > LINE_LIMITS.actionLabelChars) {
      errors.push({
        path: `${path}.label`,
        message: `must be at most ${LINE_LIMITS.actionLabelChars} characters`,
      });
    }
  }
  if (a.type === 'uri') {
    if (typeof a.uri !== 'string' || !ACTION_URI.test(a.uri)) {
      errors.push({ path: `${path}.uri`, message: 'must be an http, https, line or tel URI' });
    } else if (a.uri.length > LINE_LIMITS.actionUriChars) {
      errors.push({
        path: `${path}.uri`,
        message: `must be at most ${LINE_LIMITS.actionUriChars} characters`,
      });
    }
  } else if (a.type === 'message') {
    if (typeof a.text !== 'string' || a.text.length === 0)
      errors.push({ path: `${path}.text`, message: 'is required' });
  } else if (a.type === 'postback') {
    if (typeof a.data !== 'string' || a.data.length === 0) {
      errors.push({ path: `${path}.data`, message: 'is required' });
    } else if (a.data.length > LINE_LIMITS.postbackDataChars) {
      errors.push({
        path: `${path}.data`,
        message: `must be at most ${LINE_LIMITS.postbackDataChars} characters`,
      });
    }
  }
}

// LINE fetches media itself and only over HTTPS; a relative or http URL fails on the user's phone, not at the API.
const HTTPS_URL = /^https:\/\/[^\s/?#@]+(?:[/?#]\S*)?$/i;

function checkHttpsUrl(value: unknown, path: string, errors: LineMessageError[]): void {
  if (typeof value !== 'string' || value.length === 0) {
    errors.push({ path, message: 'is required and must be an https URL' });
  } else if (value.length > LINE_LIMITS.urlChars) {
    errors.push({ path, message: `must be at most ${LINE_LIMITS.urlChars} characters, got ${value.length}` });
  } else if (!HTTPS_URL.test(value)) {
    errors.push({ path, message: 'must be an https URL' });
  }
}

function checkSize(
  value: unknown,
  limit: number,
  what: string,
  path: string,
  errors: LineMessageError[],
): void {
  const bytes = utf8Length(JSON.stringify(value));
  if (bytes > limit)
    errors.push({
      path,
      message: `a ${what} must be at most ${limit / 1024} KB of JSON, got ${bytes} bytes`,
    });
}

function requireString(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  errors: LineMessageError[],
  opts: { digits?: boolean } = {},
): void {
  const v = obj[key];
  if (typeof v !== 'string' || v.length === 0) {
    errors.push({ path: `${path}.${key}`, message: 'is required and must be a non-empty string' });
  } else if (opts.digits && !/^\d+$/.test(v)) {
    // Sticker package and sticker ids are numeric strings in LINE's sticker list.
    errors.push({ path: `${path}.${key}`, message: `must be a numeric string, got ${JSON.stringify(v)}` });
  }
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
