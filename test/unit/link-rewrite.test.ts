import {
  appendBeforeBodyEnd,
  decodeHtmlAttribute,
  isTrackableUrl,
  locationHeaderValue,
  rewriteHtmlLinks,
  rewriteTextLinks,
  trackableLinks,
} from '../../domain/link-rewrite';

const OWN = { keepPrefixes: ['https://t.example/u/', 'https://t.example/c/', 'https://t.example/o/'] };

/** Tracks every URL as T[n], n in order of first appearance, so a table can show the result. */
function tracker() {
  const seen: string[] = [];
  const fn = (url: string) => {
    let i = seen.indexOf(url);
    if (i < 0) i = seen.push(url) - 1;
    return `T${i}`;
  };
  return { fn, seen };
}

describe('isTrackableUrl', () => {
  test.each([
    ['https://example.com/a', true],
    ['HTTP://EXAMPLE.COM', true],
    ['http://[::1]:8080/x', true],
    ['mailto:info@example.com', false],
    ['tel:+81312345678', false],
    ['#top', false],
    ['/relative/path', false],
    ['javascript:alert(1)', false],
    ['https://', false],
    ['https:///nohost', false],
    ['ftp://example.com/file', false],
    ['https://t.example/u/AAAAAAAAAAAAAAAAAAAAAA', false],
    ['https://t.example/c/AAAAAAAAAAAAAAAAAAAAAA', false],
    ['https://t.example/about', true],
  ])('when the URL is %s, then trackable is %s', (url, expected) => {
    expect(isTrackableUrl(url, OWN)).toBe(expected);
  });
});

describe('rewriteTextLinks', () => {
  test.each([
    ['a bare URL', 'see https://a.example/x now', 'see T0 now', ['https://a.example/x']],
    ['a full stop after the URL', 'Go to https://a.example/x.', 'Go to T0.', ['https://a.example/x']],
    [
      'a comma and a question mark',
      'https://a.example/?q=1, or https://b.example?',
      'T0, or T1?',
      ['https://a.example/?q=1', 'https://b.example'],
    ],
    ['a URL in parentheses', '(https://a.example/x)', '(T0)', ['https://a.example/x']],
    [
      'a URL that opens its own parenthesis',
      'https://w.example/wiki/Mail_(x)',
      'T0',
      ['https://w.example/wiki/Mail_(x)'],
    ],
    ['a URL in angle brackets', '<https://a.example/x>', '<T0>', ['https://a.example/x']],
    ['a URL in quotes', '"https://a.example/x"', '"T0"', ['https://a.example/x']],
    [
      'Japanese text right after the URL',
      '詳細はhttps://a.example/jaをご覧ください',
      '詳細はT0をご覧ください',
      ['https://a.example/ja'],
    ],
    [
      'query, fragment and percent escapes',
      'https://a.example/p?a=1&b=%20#frag',
      'T0',
      ['https://a.example/p?a=1&b=%20#frag'],
    ],
    ['the same URL twice', 'https://a.example https://a.example', 'T0 T0', ['https://a.example']],
    [
      'a mailto address',
      'mail mailto:x@a.example or x@a.example',
      'mail mailto:x@a.example or x@a.example',
      [],
    ],
    [
      'our own unsubscribe URL',
      'stop: https://t.example/u/AAAAAAAAAAAAAAAAAAAAAA',
      'stop: https://t.example/u/AAAAAAAAAAAAAAAAAAAAAA',
      [],
    ],
    ['a word glued before the scheme', 'xhttps://a.example', 'xhttps://a.example', []],
    ['a scheme with no host', 'https:// nothing', 'https:// nothing', []],
    ['upper-case scheme', 'HTTPS://A.EXAMPLE/X', 'T0', ['HTTPS://A.EXAMPLE/X']],
    [
      'URLs on several lines',
      'one https://a.example/1\ntwo https://a.example/2\n',
      'one T0\ntwo T1\n',
      ['https://a.example/1', 'https://a.example/2'],
    ],
  ])('when the text has %s, then only web links are replaced', (_what, input, expected, urls) => {
    const t = tracker();
    expect(rewriteTextLinks(input, t.fn, OWN)).toBe(expected);
    expect(t.seen).toEqual(urls);
    expect(trackableLinks(input, 'text', OWN)).toEqual(urls);
  });

  test('when the callback declines a URL, then that URL stays as written', () => {
    const out = rewriteTextLinks('https://a.example https://b.example', (u) =>
      u.includes('b.') ? 'B' : undefined,
    );
    expect(out).toBe('https://a.example B');
  });
});

describe('rewriteHtmlLinks', () => {
  test.each([
    [
      'a double-quoted href',
      '<a href="https://a.example/x">x</a>',
      '<a href="T0">x</a>',
      ['https://a.example/x'],
    ],
    [
      'a single-quoted href',
      "<a class='b' href='https://a.example/x'>x</a>",
      `<a class='b' href="T0">x</a>`,
      ['https://a.example/x'],
    ],
    [
      'an unquoted href',
      '<a href=https://a.example/x?a=b>x</a>',
      '<a href="T0">x</a>',
      ['https://a.example/x?a=b'],
    ],
    [
      'an escaped ampersand',
      '<a href="https://a.example/?a=1&amp;b=2">x</a>',
      '<a href="T0">x</a>',
      ['https://a.example/?a=1&b=2'],
    ],
    [
      'spaces around the URL',
      '<a href="  https://a.example/x ">x</a>',
      '<a href="T0">x</a>',
      ['https://a.example/x'],
    ],
    [
      'upper-case tag and attribute',
      '<A HREF="https://a.example/x">x</A>',
      '<A HREF="T0">x</A>',
      ['https://a.example/x'],
    ],
    [
      'other attributes with >',
      '<a title="a > b" href="https://a.example/x" style="c">x</a>',
      '<a title="a > b" href="T0" style="c">x</a>',
      ['https://a.example/x'],
    ],
    [
      'an image-map area',
      '<area shape="rect" href="https://a.example/m" />',
      '<area shape="rect" href="T0" />',
      ['https://a.example/m'],
    ],
    [
      'an Outlook VML button',
      '<v:roundrect href="https://a.example/b">',
      '<v:roundrect href="T0">',
      ['https://a.example/b'],
    ],
    ['a mailto link', '<a href="mailto:x@a.example">m</a>', '<a href="mailto:x@a.example">m</a>', []],
    ['a tel link', '<a href="tel:+810312345678">t</a>', '<a href="tel:+810312345678">t</a>', []],
    ['an anchor', '<a href="#top">top</a>', '<a href="#top">top</a>', []],
    [
      'our own unsubscribe link',
      '<a href="https://t.example/u/AAAAAAAAAAAAAAAAAAAAAA">stop</a>',
      '<a href="https://t.example/u/AAAAAAAAAAAAAAAAAAAAAA">stop</a>',
      [],
    ],
    [
      'a stylesheet link',
      '<link rel="stylesheet" href="https://a.example/s.css">',
      '<link rel="stylesheet" href="https://a.example/s.css">',
      [],
    ],
    ['a base element', '<base href="https://a.example/">', '<base href="https://a.example/">', []],
    [
      'a data-href attribute',
      '<a data-href="https://a.example/d">x</a>',
      '<a data-href="https://a.example/d">x</a>',
      [],
    ],
    ['an image src', '<img src="https://a.example/i.png">', '<img src="https://a.example/i.png">', []],
    ['a URL in the visible text', '<p>https://a.example/t</p>', '<p>https://a.example/t</p>', []],
    [
      'the same link twice',
      '<a href="https://a.example">1</a><a href="https://a.example">2</a>',
      '<a href="T0">1</a><a href="T0">2</a>',
      ['https://a.example'],
    ],
  ])('when the HTML has %s, then only clickable web links are replaced', (_what, input, expected, urls) => {
    const t = tracker();
    expect(rewriteHtmlLinks(input, t.fn, OWN)).toBe(expected);
    expect(t.seen).toEqual(urls);
    expect(trackableLinks(input, 'html', OWN)).toEqual(urls);
  });

  test('when the tracking URL holds characters special in HTML, then they are escaped in the attribute', () => {
    expect(rewriteHtmlLinks('<a href="https://a.example">x</a>', () => 'https://t.example/c/a&b"c')).toBe(
      '<a href="https://t.example/c/a&amp;b&quot;c">x</a>',
    );
  });

  test('when the HTML is a long run of unterminated attributes, then rewriting still finishes quickly', () => {
    const hostile = '<a ' + 'x '.repeat(20_000) + 'href="https://a.example"';
    const started = Date.now();
    rewriteHtmlLinks(hostile, () => 'T');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('decodeHtmlAttribute', () => {
  test.each([
    ['a&amp;b', 'a&b'],
    ['a&#38;b&#x26;c', 'a&b&c'],
    ['&quot;&apos;&lt;&gt;', `"'<>`],
    ['&unknown; &#0;', '&unknown; &#0;'],
  ])('when the value is %s, then it decodes to %s', (raw, decoded) => {
    expect(decodeHtmlAttribute(raw)).toBe(decoded);
  });
});

describe('locationHeaderValue', () => {
  test.each([
    ['https://a.example/p?a=1&b=2#f', 'https://a.example/p?a=1&b=2#f'],
    ['https://a.example/日本語?q=あ', 'https://a.example/%E6%97%A5%E6%9C%AC%E8%AA%9E?q=%E3%81%82'],
    ['https://a.example/a b', 'https://a.example/a%20b'],
    ['https://a.example/%20already', 'https://a.example/%20already'],
  ])('when the stored URL is %s, then Location is %s', (url, header) => {
    expect(locationHeaderValue(url)).toBe(header);
  });
});

describe('appendBeforeBodyEnd', () => {
  test.each([
    ['<html><body><p>x</p></body></html>', '<html><body><p>x</p>IMG</body></html>'],
    ['<BODY>x</BODY >', '<BODY>xIMG</BODY >'],
    ['<p>no body element</p>', '<p>no body element</p>IMG'],
  ])('when the HTML is %s, then the image lands at %s', (html, expected) => {
    expect(appendBeforeBodyEnd(html, 'IMG')).toBe(expected);
  });
});
