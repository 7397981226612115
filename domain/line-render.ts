// Rendering a LINE template's messages for one lead (SPEC §7, issue 21 item 4, issue 18 "LINE click counting"):
// merge fields in text messages, tracked links in texts and URI actions, and the LINE emoji of a text moved with
// the text before them.
//
// LINE places an emoji where `emojis[i].index` points, and that index must land on a '$' of the text, counted in
// UTF-16 code units (a surrogate-pair character counts 2, as JavaScript's string indexes do). A merge field or a
// tracked link before a '$' changes its position, so the text is cut at every emoji '$' and each piece is rendered
// on its own: the new index of an emoji is the length of everything rendered before it. A '$' is therefore also a
// boundary of a link: a URL never runs across an emoji (LINE shows an image there, not a '$').
//
// A template whose indexes land on '$' in its own text always lands on '$' after rendering (merge fields hold no
// '$'); that is checked when the template is saved (domain/line-messages.ts). What only the lead's data can break
// (a text over LINE's limit once merged, a tracked URI over its limit) is found here, per send, with the reason.
// Pure: safe to import from workflow code.
import {
  describeLineMessageErrors,
  validateLineMessages,
  type LineEmoji,
  type LineMessage,
} from './line-messages';
import { isTrackableUrl, rewriteTextLinks, type RewriteOptions, type TrackingUrlFor } from './link-rewrite';
import { personalize, type MergeLead } from './personalize';

export interface LineRenderOptions extends RewriteOptions {
  /** When given, every trackable URL in texts and URI actions is replaced by what it returns (click counting). */
  trackingUrlFor?: TrackingUrlFor;
}

export type LineRender = { ok: true; messages: LineMessage[] } | { ok: false; reason: string };

/** One text with its emoji: merge fields filled, links rewritten, emoji indexes moved with the text. */
export function renderLineText(
  text: string,
  emojis: readonly LineEmoji[] | undefined,
  render: (piece: string) => string,
): { text: string; emojis?: LineEmoji[] } {
  if (emojis === undefined || emojis.length === 0) {
    const out = render(text);
    return emojis === undefined ? { text: out } : { text: out, emojis: [] };
  }
  // Cut at each distinct emoji position that holds a '$'; an index elsewhere is left for validation to report.
  const cuts = [...new Set(emojis.map((e) => e.index))]
    .filter((i) => Number.isInteger(i) && i >= 0 && text[i] === '$')
    .sort((a, b) => a - b);
  const moved = new Map<number, number>();
  let out = '';
  let from = 0;
  for (const at of cuts) {
    out += render(text.slice(from, at));
    moved.set(at, out.length);
    out += '$';
    from = at + 1;
  }
  out += render(text.slice(from));
  return { text: out, emojis: emojis.map((e) => ({ ...e, index: moved.get(e.index) ?? e.index })) };
}

/**
 * The messages as they are pushed to one lead. Only text messages carry merge fields; with `trackingUrlFor`, links
 * in texts and every `uri` action (flex components, quick replies) are swapped for tracking URLs. The result is
 * checked against LINE's rules again, so a send LINE would refuse is a pre-error with the reason instead.
 */
export function renderLineMessages(
  messages: readonly LineMessage[],
  lead: MergeLead,
  options: LineRenderOptions = {},
): LineRender {
  const track = options.trackingUrlFor;
  const rewrite = (piece: string): string =>
    track === undefined ? piece : rewriteTextLinks(piece, track, options);
  const rendered = messages.map((m): LineMessage => {
    const withActions = track === undefined ? m : (rewriteUriActions(m, track, options) as LineMessage);
    if (withActions.type !== 'text' || typeof withActions.text !== 'string') return withActions;
    const { text, emojis } = renderLineText(withActions.text, withActions.emojis, (piece) =>
      rewrite(personalize(piece, lead)),
    );
    return emojis === undefined ? { ...withActions, text } : { ...withActions, text, emojis };
  });
  const check = validateLineMessages(rendered, 'messages');
  if (!check.ok) {
    return {
      ok: false,
      reason: `the messages as personalized for this lead break LINE's rules: ${describeLineMessageErrors(check.errors)}`,
    };
  }
  return { ok: true, messages: rendered };
}

/** The distinct trackable URLs of the messages as rendered for this lead, in order of first appearance. */
export function lineTrackableLinks(
  messages: readonly LineMessage[],
  lead: MergeLead,
  options: RewriteOptions = {},
): string[] {
  const seen = new Set<string>();
  renderLineMessages(messages, lead, {
    ...options,
    trackingUrlFor: (url) => {
      seen.add(url);
      return undefined;
    },
  });
  return [...seen];
}

/** A copy of `value` where each action object `{type: 'uri', uri}` with a trackable URI points at its tracking URL. */
function rewriteUriActions(value: unknown, track: TrackingUrlFor, options: RewriteOptions): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteUriActions(v, track, options));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = rewriteUriActions(v, track, options);
  }
  if (out.type === 'uri' && typeof out.uri === 'string' && isTrackableUrl(out.uri, options)) {
    const replacement = track(out.uri);
    if (replacement !== undefined) out.uri = replacement;
  }
  return out;
}
