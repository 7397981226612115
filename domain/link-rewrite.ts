// Click counting (SPEC §8): find the links of a message body and swap each for
// its tracking URL. Pure text work, shared by every channel that counts clicks
// (email text and HTML parts now; SMS bodies and LINE messages use the text
// rules). Which token a link gets is the caller's business: a callback maps
// each original URL to its tracking URL.

/** Body parts links are counted in; the tracked_link.part of a link. */
export type LinkPart = 'text' | 'html' | 'sms' | 'line';

export interface RewriteOptions {
  /**
   * URLs starting with one of these stay as they are: our own unsubscribe,
   * open and tracking URLs must never be wrapped (a wrapped unsubscribe link
   * would count as a click, a wrapped tracking URL would count twice).
   */
  keepPrefixes?: readonly string[];
}

/** Maps an original URL to the URL to put in its place; undefined leaves it alone. */
export type TrackingUrlFor = (originalUrl: string) => string | undefined;

/** Only web links are counted: mailto:, tel:, anchors and relative links are left alone. */
export function isTrackableUrl(url: string, options: RewriteOptions = {}): boolean {
  if (!/^https?:\/\/[^\s/?#]/i.test(url)) return false;
  return !(options.keepPrefixes ?? []).some((prefix) => prefix !== '' && url.startsWith(prefix));
}

// Characters RFC 3986 allows in a URI. Anything else (space, quotes, angle
// brackets, non-ASCII such as a Japanese sentence that follows the URL
// without a space) ends it.
const TEXT_URL = /\bhttps?:\/\/[A-Za-z0-9[][A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*/gi;

/** Trailing characters that end the sentence around a URL rather than the URL itself. */
function trimTrailingPunctuation(url: string): string {
  let end = url.length;
  for (;;) {
    const last = url[end - 1];
    if (last === undefined) break;
    if (".,;:!?'*".includes(last)) {
      end--;
      continue;
    }
    // A closing bracket belongs to the URL only when the URL opened it
    // (https://en.wikipedia.org/wiki/Mail_(disambiguation)).
    if (last === ')' || last === ']') {
      const open = last === ')' ? '(' : '[';
      const head = url.slice(0, end);
      if (count(head, open) < count(head, last)) {
        end--;
        continue;
      }
    }
    break;
  }
  return url.slice(0, end);
}

function count(s: string, ch: string): number {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}

/** Rewrites every trackable URL in plain text (email text part, SMS, LINE text). */
export function rewriteTextLinks(
  text: string,
  trackingUrlFor: TrackingUrlFor,
  options: RewriteOptions = {},
): string {
  return text.replace(TEXT_URL, (match) => {
    const url = trimTrailingPunctuation(match);
    const rest = match.slice(url.length);
    if (!isTrackableUrl(url, options)) return match;
    const replacement = trackingUrlFor(url);
    return replacement === undefined ? match : replacement + rest;
  });
}

// A start tag with its attributes; quoted values may hold '>'.
const START_TAG =
  /<([a-zA-Z][a-zA-Z0-9:-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'<>`]+))?)*)\s*\/?>/g;
const HREF_ATTR = /(\s)(href)(\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s"'<>`]+))/i;

/**
 * Elements whose href a reader clicks: links, image-map areas and Outlook's
 * VML buttons (v:roundrect …). Never <link> or <base>: a stylesheet fetched
 * through the click counter would count a click on every open.
 */
function isClickableElement(tagName: string): boolean {
  const name = tagName.toLowerCase();
  return name === 'a' || name === 'area' || name.startsWith('v:');
}

/** Rewrites the href of every clickable element in HTML; the rest of the markup is left byte for byte. */
export function rewriteHtmlLinks(
  html: string,
  trackingUrlFor: TrackingUrlFor,
  options: RewriteOptions = {},
): string {
  return html.replace(START_TAG, (tag, name: string, attrs: string) => {
    if (!isClickableElement(name)) return tag;
    const href = HREF_ATTR.exec(attrs);
    if (!href) return tag;
    const raw = href[4] ?? href[5] ?? href[6] ?? '';
    // A browser decodes character references and trims spaces before following an href.
    const url = decodeHtmlAttribute(raw).trim();
    if (!isTrackableUrl(url, options)) return tag;
    const replacement = trackingUrlFor(url);
    if (replacement === undefined) return tag;
    const newAttrs =
      attrs.slice(0, href.index) +
      `${href[1]}${href[2]}${href[3]}"${escapeAttribute(replacement)}"` +
      attrs.slice(href.index + href[0].length);
    return `<${name}${newAttrs}${tag.slice(1 + name.length + attrs.length)}`;
  });
}

/** The distinct trackable URLs of a body, in order of first appearance. */
export function trackableLinks(
  body: string,
  format: 'text' | 'html',
  options: RewriteOptions = {},
): string[] {
  const seen = new Set<string>();
  const collect: TrackingUrlFor = (url) => {
    seen.add(url);
    return undefined;
  };
  if (format === 'html') rewriteHtmlLinks(body, collect, options);
  else rewriteTextLinks(body, collect, options);
  return [...seen];
}

const NAMED_REFERENCES: Readonly<Record<string, string>> = {
  amp: '&',
  quot: '"',
  apos: "'",
  lt: '<',
  gt: '>',
  nbsp: '\u00a0',
};

export function decodeHtmlAttribute(value: string): string {
  return value.replace(/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]+);/g, (ref, body: string) => {
    if (body.startsWith('#')) {
      const code =
        body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ref;
    }
    return NAMED_REFERENCES[body.toLowerCase()] ?? ref;
  });
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
}

/**
 * A stored URL as an HTTP Location value: header values must be visible
 * ASCII, so anything else (spaces, non-ASCII paths from an HTML href) is
 * percent-encoded as UTF-8, as a browser does before requesting it.
 */
export function locationHeaderValue(url: string): string {
  return url.replace(/[^\x21-\x7e]+/gu, (run) => encodeURIComponent(run));
}

/**
 * Where the open-tracking image goes: just before </body> so it loads after
 * the content, or at the end when the HTML has no body element.
 */
export function appendBeforeBodyEnd(html: string, fragment: string): string {
  const at = html.search(/<\/body\s*>(?![\s\S]*<\/body\s*>)/i);
  return at < 0 ? html + fragment : html.slice(0, at) + fragment + html.slice(at);
}

/**
 * Paths of the tracking endpoints under the public base URL: click, open
 * image and unsubscribe. The renderer builds URLs with them and the API
 * serves them, so the two cannot drift apart.
 */
export const TRACKING_PATHS = { click: '/c/', open: '/o/', unsubscribe: '/u/' } as const;

/** A tracking token: 16 random bytes (128 bits) in base64url, nothing derived from ids. */
export const TRACKING_TOKEN = /^[A-Za-z0-9_-]{22}$/;

/** Our own tracking URLs, which link rewriting must leave alone. */
export function ownTrackingPrefixes(publicBaseUrl: string): string[] {
  return Object.values(TRACKING_PATHS).map((path) => publicBaseUrl + path);
}
