import { LINE_LIMITS, describeLineMessageErrors, validateLineMessages } from '../../domain/line-messages';

const text = (t: string): object => ({ type: 'text', text: t });
const img = 'https://cdn.example.jp/a.jpg';
const bubble = (
  body: object = { type: 'box', layout: 'vertical', contents: [{ type: 'text', text: 'Hi' }] },
): object => ({
  type: 'bubble',
  body,
});

describe('validateLineMessages: accepted shapes', () => {
  test.each<[string, unknown]>([
    ['when one text message, then valid', [text('Hello')]],
    ['when a text is exactly 5000 UTF-16 units, then valid', [text('a'.repeat(5000))]],
    [
      'when a text uses LINE emoji on $ placeholders, then valid',
      [
        {
          type: 'text',
          text: '$ sale $',
          emojis: [
            { index: 0, productId: '5ac1bfd5040ab15980c9b435', emojiId: '001' },
            { index: 7, productId: '5ac1bfd5040ab15980c9b435', emojiId: '002' },
          ],
        },
      ],
    ],
    [
      'when a sticker has numeric package and sticker ids, then valid',
      [{ type: 'sticker', packageId: '446', stickerId: '1988' }],
    ],
    [
      'when an image has https URLs, then valid',
      [{ type: 'image', originalContentUrl: img, previewImageUrl: img }],
    ],
    ['when five messages, then valid', [text('1'), text('2'), text('3'), text('4'), text('5')]],
    [
      'when a flex bubble with hero image and a uri button, then valid',
      [
        {
          type: 'flex',
          altText: 'Autumn sale',
          contents: {
            type: 'bubble',
            hero: { type: 'image', url: img },
            body: { type: 'box', layout: 'vertical', contents: [{ type: 'text', text: 'Up to 30% off' }] },
            footer: {
              type: 'box',
              layout: 'vertical',
              contents: [
                { type: 'button', action: { type: 'uri', label: 'Shop', uri: 'https://shop.example.jp/' } },
              ],
            },
          },
        },
      ],
    ],
    [
      'when a flex carousel of two bubbles, then valid',
      [{ type: 'flex', altText: 'two', contents: { type: 'carousel', contents: [bubble(), bubble()] } }],
    ],
    [
      'when a baseline box holds an icon and text, then valid',
      [
        {
          type: 'flex',
          altText: 'x',
          contents: bubble({
            type: 'box',
            layout: 'baseline',
            contents: [
              { type: 'icon', url: img },
              { type: 'text', text: '4.0' },
            ],
          }),
        },
      ],
    ],
    [
      'when a message carries quickReply, then the common property is let through',
      [{ type: 'text', text: 'Hi', quickReply: { items: [] } }],
    ],
  ])('%s', (_name, messages) => {
    const check = validateLineMessages(messages);
    expect(check).toEqual({ ok: true, messages });
  });
});

describe('validateLineMessages: rejected shapes name the path', () => {
  test.each<[string, unknown, string, RegExp]>([
    ['when not an array, then the list is named', { type: 'text', text: 'x' }, 'messages', /array/],
    ['when no messages, then 1 to 5 is required', [], 'messages', /1 to 5 messages, got 0/],
    [
      'when six messages, then 1 to 5 is required',
      Array.from({ length: 6 }, () => text('x')),
      'messages',
      /got 6/,
    ],
    ['when a message is not an object, then its index is named', ['hello'], 'messages[0]', /object/],
    [
      'when the type is unknown, then the supported types are listed',
      [{ type: 'video' }],
      'messages[0].type',
      /text, sticker, image, flex/,
    ],
    ['when the type is missing, then it is required', [{ text: 'x' }], 'messages[0].type', /required/],
    ['when a text is empty, then it must not be', [text('')], 'messages[0].text', /empty/],
    [
      'when a text is 5001 units, then the limit is named',
      [text('a'.repeat(5001))],
      'messages[0].text',
      /at most 5000.*got 5001/,
    ],
    [
      'when emoji surrogate pairs push a text past 5000 units, then it is too long',
      [text('👍'.repeat(2501))],
      'messages[0].text',
      /got 5002/,
    ],
    [
      'when text is a number, then it must be a string',
      [{ type: 'text', text: 5 }],
      'messages[0].text',
      /string/,
    ],
    [
      'when an emoji index is not on a $, then it is named',
      [{ type: 'text', text: 'a $', emojis: [{ index: 0, productId: 'p', emojiId: '001' }] }],
      'messages[0].emojis[0].index',
      /'\$' placeholder/,
    ],
    [
      'when 21 LINE emoji, then the limit is named',
      [
        {
          type: 'text',
          text: '$'.repeat(21),
          emojis: Array.from({ length: 21 }, (_, i) => ({ index: i, productId: 'p', emojiId: '001' })),
        },
      ],
      'messages[0].emojis',
      /at most 20/,
    ],
    [
      'when a sticker lacks its stickerId, then it is required',
      [{ type: 'sticker', packageId: '446' }],
      'messages[0].stickerId',
      /required/,
    ],
    [
      'when a sticker id is not numeric, then it is named',
      [{ type: 'sticker', packageId: '446', stickerId: 'smile' }],
      'messages[0].stickerId',
      /numeric/,
    ],
    [
      'when an image URL is http, then https is required',
      [{ type: 'image', originalContentUrl: 'http://cdn.example.jp/a.jpg', previewImageUrl: img }],
      'messages[0].originalContentUrl',
      /https/,
    ],
    [
      'when a preview URL is missing, then it is required',
      [{ type: 'image', originalContentUrl: img }],
      'messages[0].previewImageUrl',
      /required/,
    ],
    [
      'when an image URL exceeds 2000 characters, then the limit is named',
      [
        {
          type: 'image',
          originalContentUrl: `https://cdn.example.jp/${'a'.repeat(2000)}`,
          previewImageUrl: img,
        },
      ],
      'messages[0].originalContentUrl',
      /at most 2000/,
    ],
    [
      'when a flex lacks altText, then it is required',
      [{ type: 'flex', contents: bubble() }],
      'messages[0].altText',
      /required/,
    ],
    [
      'when a flex altText exceeds 1500, then the limit is named',
      [{ type: 'flex', altText: 'a'.repeat(1501), contents: bubble() }],
      'messages[0].altText',
      /at most 1500/,
    ],
    [
      'when flex contents is neither bubble nor carousel, then it is named',
      [{ type: 'flex', altText: 'x', contents: { type: 'box' } }],
      'messages[0].contents.type',
      /bubble.*carousel/,
    ],
    [
      'when a carousel holds 13 bubbles, then the limit is named',
      [
        {
          type: 'flex',
          altText: 'x',
          contents: { type: 'carousel', contents: Array.from({ length: 13 }, () => bubble()) },
        },
      ],
      'messages[0].contents.contents',
      /at most 12/,
    ],
    [
      'when a box has no layout, then it is named',
      [{ type: 'flex', altText: 'x', contents: bubble({ type: 'box', contents: [] }) }],
      'messages[0].contents.body.layout',
      /horizontal/,
    ],
    [
      'when a nested flex image is http, then the deep path is named',
      [
        {
          type: 'flex',
          altText: 'x',
          contents: bubble({
            type: 'box',
            layout: 'vertical',
            contents: [
              { type: 'box', layout: 'horizontal', contents: [{ type: 'image', url: 'http://x.jp/a.png' }] },
            ],
          }),
        },
      ],
      'messages[0].contents.body.contents[0].contents[0].url',
      /https/,
    ],
    [
      'when a button has no action, then it is required',
      [
        {
          type: 'flex',
          altText: 'x',
          contents: bubble({ type: 'box', layout: 'vertical', contents: [{ type: 'button' }] }),
        },
      ],
      'messages[0].contents.body.contents[0].action',
      /required/,
    ],
    [
      'when a uri action has a javascript: URI, then it is refused',
      [
        {
          type: 'flex',
          altText: 'x',
          contents: bubble({
            type: 'box',
            layout: 'vertical',
            contents: [{ type: 'button', action: { type: 'uri', label: 'Go', uri: 'javascript:alert(1)' } }],
          }),
        },
      ],
      'messages[0].contents.body.contents[0].action.uri',
      /http, https, line or tel/,
    ],
    [
      'when a baseline box holds a button, then the placement is refused',
      [
        {
          type: 'flex',
          altText: 'x',
          contents: bubble({
            type: 'box',
            layout: 'baseline',
            contents: [{ type: 'button', action: { type: 'message', label: 'a', text: 'a' } }],
          }),
        },
      ],
      'messages[0].contents.body.contents[0].type',
      /baseline box/,
    ],
    [
      'when a bubble exceeds 30 KB of JSON, then the size is named',
      [
        {
          type: 'flex',
          altText: 'x',
          contents: bubble({
            type: 'box',
            layout: 'vertical',
            contents: Array.from({ length: 400 }, () => ({ type: 'text', text: 'あ'.repeat(30) })),
          }),
        },
      ],
      'messages[0].contents',
      /30 KB/,
    ],
  ])('%s', (_name, messages, path, message) => {
    const check = validateLineMessages(messages);
    expect(check.ok).toBe(false);
    if (check.ok) return;
    const hit = check.errors.find((e) => e.path === path);
    expect(hit).toBeDefined();
    expect(hit?.message).toMatch(message);
  });

  test('when several messages are wrong, then every error is reported, each with its own path', () => {
    const check = validateLineMessages([text(''), { type: 'sticker', packageId: '1' }], 'body.lineMessages');
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.errors.map((e) => e.path)).toEqual([
      'body.lineMessages[0].text',
      'body.lineMessages[1].stickerId',
    ]);
    expect(describeLineMessageErrors(check.errors)).toBe(
      'body.lineMessages[0].text: must not be empty; body.lineMessages[1].stickerId: is required and must be a non-empty string',
    );
  });

  test('when the limits table is read, then it holds LINE published numbers', () => {
    expect(LINE_LIMITS).toMatchObject({
      messagesPerPush: 5,
      textChars: 5000,
      urlChars: 2000,
      altTextChars: 1500,
      carouselBubbles: 12,
    });
  });
});
