import {
  extractAddress,
  parseDeliveryStatus,
  parseFeedbackReport,
  parseHeaderBlock,
} from '../../domain/report-fields';

// Hand-written reports modelled on what each kind of server sends.

const POSTFIX_DSN = [
  'Reporting-MTA: dns; mail.example.co.jp',
  'X-Postfix-Queue-ID: 4VJ8kz0Xq5z9tVw',
  'X-Postfix-Sender: rfc822; b+Q2hhbmdlTWU0MjQyNDI0@bounce.example.co.jp',
  'Arrival-Date: Tue,  2 Apr 2024 10:15:03 +0900 (JST)',
  '',
  'Final-Recipient: rfc822; taro.yamada@example.net',
  'Original-Recipient: rfc822;Taro.Yamada@Example.NET',
  'Action: failed',
  'Status: 5.1.1',
  'Remote-MTA: dns; mx1.example.net',
  'Diagnostic-Code: smtp; 550 5.1.1 <taro.yamada@example.net>: Recipient address',
  '    rejected: User unknown in virtual mailbox table',
  '',
  'Final-Recipient: rfc822; hanako@example.org',
  'Original-Recipient: rfc822;hanako@example.org',
  'Action: failed',
  'Status: 5.2.2',
  'Remote-MTA: dns; mx.example.org',
  'Diagnostic-Code: smtp; 552 5.2.2 <hanako@example.org>: Recipient address',
  '    rejected: Mailbox full',
  '',
].join('\r\n');

const EXCHANGE_DSN = [
  'Reporting-MTA: dns;TYCPR01MB8993.jpnprd01.prod.outlook.com',
  'Received-From-MTA: dns;mail.example.co.jp',
  'Arrival-Date: Tue, 2 Apr 2024 01:15:04 +0000',
  '',
  'Final-Recipient: rfc822;nobody@contoso.onmicrosoft.com',
  'Action: failed',
  'Status: 5.1.10',
  'Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient nobody@contoso.onmicrosoft.com not found by SMTP address lookup',
  'X-Display-Name: nobody',
  '',
].join('\r\n');

const DELAYED_DSN = [
  'Reporting-MTA: dns; mail.example.co.jp',
  'X-Postfix-Queue-ID: 4VJ9Bq2Rr1z9tVx',
  'Arrival-Date: Tue,  2 Apr 2024 10:15:03 +0900 (JST)',
  '',
  'Final-Recipient: rfc822; someone@slow.example',
  'Original-Recipient: rfc822;someone@slow.example',
  'Action: delayed',
  'Status: 4.4.1',
  'Diagnostic-Code: X-Postfix; connect to mx.slow.example[192.0.2.10]:25: Connection',
  '    timed out',
  'Will-Retry-Until: Tue,  9 Apr 2024 10:15:03 +0900 (JST)',
  '',
].join('\n');

const GMAIL_DSN = [
  'Reporting-MTA: dns; googlemail.com',
  'Arrival-Date: Tue, 02 Apr 2024 01:15:05 -0700 (PDT)',
  'X-Original-Message-ID: <20240402081503.1234@mail.example.co.jp>',
  'Original-Envelope-Id: Zx9fQ2hhbmdlTWU0MjQyNDI0',
  '',
  'Final-Recipient: rfc822; no-such-user@gmail.com',
  'Original-Recipient: rfc822;no-such-user@gmail.com',
  'Action: failed',
  'Status: 5.1.1',
  'Remote-MTA: dns; gmail-smtp-in.l.google.com. (2607:f8b0:4004:c1b::1b, the server',
  ' for the domain gmail.com.)',
  'Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try',
  " 550-5.1.1 double-checking the recipient's email address for typos or",
  ' 550-5.1.1 unnecessary spaces. For more information, go to',
  ' 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser d9443c01a7336-1e0bd5b6d5asi123456plb.123 - gsmtp',
  'Last-Attempt-Date: Tue, 02 Apr 2024 01:15:06 -0700 (PDT)',
  '',
].join('\r\n');

// RFC 5965 §B.1-style abuse report, written for a complaint about one of our sends.
const ARF_ABUSE = [
  'Feedback-Type: abuse',
  'User-Agent: SomeGenerator/1.0',
  'Version: 1',
  'Original-Mail-From: <b+Q2hhbmdlTWU0MjQyNDI0@Bounce.Example.co.jp>',
  'Original-Rcpt-To: <Complainer@Example.NET>',
  'Arrival-Date: Tue, 2 Apr 2024 10:20:00 +0900',
  'Reporting-MTA: dns; mail.example.net',
  'Source-IP: 192.0.2.1',
  'Authentication-Results: mail.example.net;',
  '  spf=pass smtp.mail=b+Q2hhbmdlTWU0MjQyNDI0@bounce.example.co.jp;',
  '  dkim=pass header.d=example.co.jp',
  'Reported-Domain: Example.co.jp',
  'Removal-Recipient: complainer@example.net',
  '',
].join('\r\n');

describe('parseHeaderBlock', () => {
  test('folded lines are unfolded with one space and names are lower-cased', () => {
    expect(parseHeaderBlock('Diagnostic-Code: smtp; 550 first\r\n\t  second\r\nSTATUS: 5.1.1')).toEqual([
      ['diagnostic-code', 'smtp; 550 first second'],
      ['status', '5.1.1'],
    ]);
  });

  test('prose lines and a continuation with nothing to continue are skipped', () => {
    expect(parseHeaderBlock('  orphan\nThis is not: a field\nAction : failed\n')).toEqual([
      ['action', 'failed'],
    ]);
  });

  test('a blank line ends a field instead of folding into it', () => {
    expect(parseHeaderBlock('A: 1\n\n  B: 2\nC: 3')).toEqual([
      ['a', '1'],
      ['c', '3'],
    ]);
  });
});

describe('extractAddress', () => {
  test.each<[string | null, string | null]>([
    ['rfc822; <A@B.jp>', 'A@b.jp'],
    ['rfc822;user@Example.COM', 'user@example.com'],
    ['RFC822;  user@example.com. ', 'user@example.com'],
    ['utf-8; 太郎@例え.jp', '太郎@例え.jp'],
    ['Taro Yamada <Taro@Example.jp>', 'Taro@example.jp'],
    ['user@example.com (Taro)', 'user@example.com'],
    ['"john doe"@example.com', '"john doe"@example.com'],
    ['<>', null],
    ['x400; /c=jp/o=example/', null],
    ['', null],
    [null, null],
  ])('%p -> %p (domain lower-cased, local part kept)', (input, expected) => {
    expect(extractAddress(input)).toBe(expected);
  });
});

describe('parseDeliveryStatus', () => {
  test('when Postfix reports two failed recipients, then each gets its own entry with an unfolded diagnostic', () => {
    const dsn = parseDeliveryStatus(POSTFIX_DSN);
    expect(dsn.reportingMta).toBe('mail.example.co.jp');
    expect(dsn.arrivalDate).toBe('Tue,  2 Apr 2024 10:15:03 +0900 (JST)');
    expect(dsn.originalEnvelopeId).toBeNull();
    expect(dsn.recipients).toEqual([
      {
        finalRecipient: 'taro.yamada@example.net',
        originalRecipient: 'Taro.Yamada@example.net',
        action: 'failed',
        status: '5.1.1',
        remoteMta: 'mx1.example.net',
        diagnosticCode:
          '550 5.1.1 <taro.yamada@example.net>: Recipient address rejected: User unknown in virtual mailbox table',
        diagnosticType: 'smtp',
      },
      {
        finalRecipient: 'hanako@example.org',
        originalRecipient: 'hanako@example.org',
        action: 'failed',
        status: '5.2.2',
        remoteMta: 'mx.example.org',
        diagnosticCode: '552 5.2.2 <hanako@example.org>: Recipient address rejected: Mailbox full',
        diagnosticType: 'smtp',
      },
    ]);
  });

  test('when Exchange reports RecipientNotFound, then semicolons inside the diagnostic survive', () => {
    const dsn = parseDeliveryStatus(EXCHANGE_DSN);
    expect(dsn.reportingMta).toBe('TYCPR01MB8993.jpnprd01.prod.outlook.com');
    expect(dsn.recipients).toHaveLength(1);
    const [r] = dsn.recipients;
    expect(r).toMatchObject({
      finalRecipient: 'nobody@contoso.onmicrosoft.com',
      originalRecipient: null,
      action: 'failed',
      status: '5.1.10',
      remoteMta: null,
      diagnosticType: 'smtp',
      diagnosticCode:
        '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient nobody@contoso.onmicrosoft.com not found by SMTP address lookup',
    });
  });

  test('when a DSN says Action: delayed, then it is not a failure', () => {
    const dsn = parseDeliveryStatus(DELAYED_DSN);
    expect(dsn.recipients).toHaveLength(1);
    expect(dsn.recipients[0]?.action).toBe('delayed');
    expect(dsn.recipients[0]?.action).not.toBe('failed');
    expect(dsn.recipients[0]?.status).toBe('4.4.1');
    expect(dsn.recipients[0]?.diagnosticType).toBe('x-postfix');
    expect(dsn.recipients[0]?.diagnosticCode).toBe(
      'connect to mx.slow.example[192.0.2.10]:25: Connection timed out',
    );
  });

  test('when Gmail echoes our ENVID, then Original-Envelope-Id comes back with its case intact', () => {
    const dsn = parseDeliveryStatus(GMAIL_DSN);
    expect(dsn.originalEnvelopeId).toBe('Zx9fQ2hhbmdlTWU0MjQyNDI0');
    expect(dsn.reportingMta).toBe('googlemail.com');
    const [r] = dsn.recipients;
    expect(r?.finalRecipient).toBe('no-such-user@gmail.com');
    expect(r?.status).toBe('5.1.1');
    expect(r?.remoteMta).toBe('gmail-smtp-in.l.google.com');
    expect(r?.diagnosticCode).toMatch(
      /^550-5\.1\.1 The email account .* 550 5\.1\.1 {2}https:\/\/support\.google\.com/,
    );
    expect(r?.diagnosticCode).not.toContain('\n');
  });

  test('when the status carries a comment or the action odd case, then only the value is kept', () => {
    const dsn = parseDeliveryStatus(
      'Final-Recipient: rfc822; a@b.jp\nAction: FAILED (bad address)\nStatus: 5.0.0 (permanent failure)',
    );
    expect(dsn.recipients[0]).toMatchObject({ action: 'failed', status: '5.0.0' });
  });

  test('when the generator runs the per-message fields into the recipient block, then both are read', () => {
    const dsn = parseDeliveryStatus(
      'Reporting-MTA: dns; mx.example\nFinal-Recipient: rfc822; a@b.jp\nAction: failed\nStatus: 5.1.1',
    );
    expect(dsn.reportingMta).toBe('mx.example');
    expect(dsn.recipients).toHaveLength(1);
  });

  test('when an action or status is not a known value, then it is null rather than guessed', () => {
    const dsn = parseDeliveryStatus('Final-Recipient: rfc822; a@b.jp\nAction: frobnicated\nStatus: failed');
    expect(dsn.recipients[0]).toMatchObject({ action: null, status: null, diagnosticCode: null });
  });

  test('when a generator puts a blank line inside a recipient block, then its fields stay with that recipient', () => {
    const dsn = parseDeliveryStatus(
      'Reporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; a@b.jp\n\nAction: failed\nStatus: 5.1.1\n\nFinal-Recipient: rfc822; c@d.jp\nAction: delayed\nStatus: 4.2.2\n',
    );
    expect(dsn.recipients).toHaveLength(2);
    expect(dsn.recipients[0]).toMatchObject({ finalRecipient: 'a@b.jp', action: 'failed', status: '5.1.1' });
    expect(dsn.recipients[1]).toMatchObject({ finalRecipient: 'c@d.jp', action: 'delayed' });
  });

  test.each([
    ['deliverable', 'delivered'],
    ['expired', 'failed'],
    ['Bounced', 'failed'],
    ['failure', 'failed'],
    ['deferred', 'delayed'],
    ['relay', 'relayed'],
  ])('when a generator writes the non-standard Action: %s, then it reads as %s', (written, read) => {
    const dsn = parseDeliveryStatus(`Final-Recipient: rfc822; a@b.jp\nAction: ${written}\nStatus: 5.1.1`);
    expect(dsn.recipients[0]?.action).toBe(read);
  });

  test.each([
    ['empty', ''],
    ['prose', "Hello,\n\nThis is the mail system at host mail.example.co.jp.\n\nI'm sorry: it failed.\n"],
    ['binary-ish', '\u0000\u0001\u00ff%PDF-1.4\n\n\u0007:::\n\t\t\n;;;'],
    ['not a string', undefined as unknown as string],
  ])(
    'when the body is garbage (%s), then parsing returns no recipients and does not throw',
    (_label, body) => {
      expect(parseDeliveryStatus(body)).toEqual({
        reportingMta: null,
        originalEnvelopeId: null,
        arrivalDate: null,
        recipients: [],
      });
    },
  );
});

describe('parseFeedbackReport', () => {
  test('when a mailbox provider sends an abuse report, then every ARF field is read', () => {
    expect(parseFeedbackReport(ARF_ABUSE)).toEqual({
      feedbackType: 'abuse',
      userAgent: 'SomeGenerator/1.0',
      version: '1',
      // The token in the return path keeps its case; only the domain is folded.
      originalMailFrom: 'b+Q2hhbmdlTWU0MjQyNDI0@bounce.example.co.jp',
      originalRcptTo: ['Complainer@example.net'],
      arrivalDate: 'Tue, 2 Apr 2024 10:20:00 +0900',
      sourceIp: '192.0.2.1',
      reportedDomain: 'example.co.jp',
    });
  });

  test('when a report lists several recipients and the old Received-Date, then all are kept', () => {
    const report = parseFeedbackReport(
      [
        'Feedback-Type: Not-Spam',
        'User-Agent: Yahoo!-Mail-Feedback/2.0',
        'Version: 0.1',
        'Original-Mail-From: <>',
        'Original-Rcpt-To: a@example.net',
        'Original-Rcpt-To: b@example.net',
        'Original-Rcpt-To: a@example.net',
        'Received-Date: Tue, 2 Apr 2024 10:20:00 +0900',
        'Source-IP: [2001:db8::25]',
      ].join('\n'),
    );
    expect(report).toMatchObject({
      feedbackType: 'not-spam',
      originalMailFrom: null,
      originalRcptTo: ['a@example.net', 'b@example.net'],
      arrivalDate: 'Tue, 2 Apr 2024 10:20:00 +0900',
      sourceIp: '2001:db8::25',
      reportedDomain: null,
    });
  });

  test('when the body is not a feedback report, then every field is empty', () => {
    expect(parseFeedbackReport('just some text\n\nand more')).toEqual({
      feedbackType: null,
      userAgent: null,
      version: null,
      originalMailFrom: null,
      originalRcptTo: [],
      arrivalDate: null,
      sourceIp: null,
      reportedDomain: null,
    });
  });
});
