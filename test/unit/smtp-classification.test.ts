import { DELIVERY_CODES } from '../../domain/delivery-codes';
import { ERROR_REASONS } from '../../domain/error-reasons';
import {
  SMTP_CLASSIFICATION_RULES,
  classificationFacts,
  classifyAcceptedMessage,
  classifySmtpReply,
  classifyTransportError,
  findClassificationRule,
  parseEnhancedStatusCode,
  preErrorMissingAddress,
  type SmtpOutcome,
  type SmtpReply,
  type TransportError,
} from '../../domain/smtp-classification';

type Expected = Partial<SmtpOutcome> & Pick<SmtpOutcome, 'code'>;

const sent = (code: 40000 | 40001): Expected => ({
  code,
  result: 'sent',
  errorType: null,
  reason: null,
  retryable: false,
  policyBlock: false,
});
const hard = (code: number, reason: SmtpOutcome['reason']): Expected => ({
  code,
  result: 'error',
  errorType: 'hard',
  reason,
  retryable: false,
  policyBlock: false,
});
const soft = (code: number, reason: SmtpOutcome['reason']): Expected => ({
  code,
  result: 'error',
  errorType: 'soft',
  reason,
  retryable: true,
  policyBlock: false,
  invalidatesAtOnce: false,
});
/** A fault of our connection to our own relay: the send waits, the recipient is untouched. */
const relayFault = (code: number, relay: NonNullable<SmtpOutcome['relayFault']>): Expected => ({
  code,
  result: 'error',
  errorType: 'soft',
  reason: 'unreachable',
  retryable: true,
  policyBlock: true,
  invalidatesAtOnce: false,
  relayFault: relay,
});
const policyBlock = (code = 42530): Expected => ({
  code,
  result: 'error',
  errorType: 'soft',
  reason: code === 42535 ? 'unreachable' : 'refused',
  retryable: true,
  policyBlock: true,
  invalidatesAtOnce: false,
});

const GMAIL_NO_SUCH_USER = [
  '550-5.1.1 The email account that you tried to reach does not exist. Please try',
  "550-5.1.1 double-checking the recipient's email address for typos or",
  '550-5.1.1 unnecessary spaces. For more information, go to',
  '550 5.1.1  https://support.google.com/mail/?p=NoSuchUser a1-20020a17090a000000b00280000000si123 - gsmtp',
].join('\n');

const GMAIL_UNSOLICITED = [
  '550-5.7.1 [203.0.113.5      12] Our system has detected that this message is',
  '550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Gmail,',
  '550-5.7.1 this message has been blocked. For more information, go to',
  '550 5.7.1  https://support.google.com/mail/?p=UnsolicitedMessageError b2si456 - gsmtp',
].join('\n');

const replyCases: ReadonlyArray<[string, SmtpReply, Expected]> = [
  // 2xx
  [
    'Gmail accepts the message',
    { response: '250 2.0.0 OK  1700000000 a1si1 - gsmtp', command: 'DATA' },
    sent(40000),
  ],
  ['a bare 250 with responseCode only', { responseCode: 250 }, sent(40000)],
  // 5.1.x and unknown-user texts: hard 42550
  [
    'Gmail 550 5.1.1 account does not exist',
    { response: GMAIL_NO_SUCH_USER, command: 'RCPT TO' },
    hard(42550, 'unknown_user'),
  ],
  [
    'Microsoft 550 5.1.10 RecipientNotFound',
    { response: '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup' },
    hard(42550, 'unknown_user'),
  ],
  [
    'Microsoft 550 5.5.0 mailbox unavailable',
    { response: '550 5.5.0 Requested action not taken: mailbox unavailable', responseCode: 550 },
    hard(42550, 'unknown_user'),
  ],
  [
    "Yahoo 554 dd This user doesn't have a yahoo.com account",
    {
      response:
        "554 delivery error: dd This user doesn't have a yahoo.com account (someone@yahoo.com) [0] - mta1234.mail.gq1.yahoo.com",
    },
    hard(42550, 'unknown_user'),
  ],
  ['an old server 550 No such user here', { response: '550 No such user here' }, hard(42550, 'unknown_user')],
  [
    'Microsoft 550 5.4.1 directory-based edge blocking',
    {
      response:
        '550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [DM6NAM11FT012.eop-nam11.prod.protection.outlook.com]',
    },
    hard(42550, 'unknown_user'),
  ],
  [
    'Postfix 550 5.1.2 recipient domain not found',
    { response: '550 5.1.2 <a@nowhere.invalid>: Recipient address rejected: Domain not found' },
    soft(41605, 'invalid_domain'),
  ],
  [
    'Microsoft 550 5.4.310 DNS domain does not exist',
    { response: '550 5.4.310 DNS domain nowhere.example does not exist [Message=InfoDomainNonexistent]' },
    soft(41605, 'invalid_domain'),
  ],
  ['Exim 550 unrouteable address', { response: '550 Unrouteable address' }, soft(41605, 'invalid_domain')],
  // Issue 16: an invalid domain is soft 41605 (both seed manuals), and our rate never hurts the recipient.
  [
    'RFC 7505 null MX',
    { response: '556 5.1.10 Host does not accept mail (null MX)' },
    soft(41605, 'invalid_domain'),
  ],
  ['550 5.4.4 invalid domain', { response: '550 5.4.4 Invalid domain' }, soft(41605, 'invalid_domain')],
  [
    'too many recipients this hour under 5.1.1',
    { response: '550 5.1.1 <a@x.example>: Recipient address rejected: too many recipients this hour' },
    policyBlock(),
  ],
  [
    'Gmail receiving mail at a rate (5.2.1)',
    {
      response:
        '550-5.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered.',
    },
    policyBlock(),
  ],
  ['a generic 550 without a known text', { response: '550 Rejected' }, hard(42550, 'refused')],
  // X.2.x: decided by text
  [
    'Gmail 550 5.2.1 account disabled',
    { response: '550-5.2.1 The email account that you tried to reach is disabled. a1si1 - gsmtp' },
    hard(42550, 'invalid_account'),
  ],
  [
    'Gmail 552 5.2.2 over quota and inactive',
    {
      response:
        '552-5.2.2 The email account that you tried to reach is over quota and inactive. a1si1 - gsmtp',
    },
    hard(42550, 'invalid_account'),
  ],
  [
    'RFC 7372 5.7.13 user account disabled',
    { response: '550 5.7.13 User account disabled' },
    hard(42550, 'invalid_account'),
  ],
  [
    'a 5.2.1 that does not say the account is gone',
    { response: '550 5.2.1 Mailbox not accepting messages right now' },
    soft(42554, 'invalid_account'),
  ],
  [
    'Gmail 452 4.2.2 over quota',
    { response: '452-4.2.2 The email account that you tried to reach is over quota. a1si1 - gsmtp' },
    soft(42552, 'mailbox_full'),
  ],
  ['552 5.2.2 mailbox full', { response: '552 5.2.2 Mailbox full' }, soft(42552, 'mailbox_full')],
  [
    '452 insufficient system storage',
    { response: '452 4.3.1 Insufficient system storage' },
    soft(42552, 'mailbox_full'),
  ],
  [
    '552 without an enhanced code',
    { response: '552 Requested mail action aborted: exceeded storage allocation' },
    soft(42552, 'mailbox_full'),
  ],
  // permanent: 42551, 42553, 42521
  [
    '551 user not local',
    { response: '551 User not local; please try <forward@example.net>' },
    { ...hard(42551, 'unknown_user'), invalidatesAtOnce: true },
  ],
  [
    '550 5.1.6 mailbox moved',
    { response: '550 5.1.6 Recipient addresses moved, no forwarding address' },
    { ...hard(42551, 'invalid_account'), invalidatesAtOnce: true },
  ],
  [
    '553 5.1.3 bad address syntax',
    { response: '553 5.1.3 <a..b@example.com>... Bad recipient address syntax' },
    { ...hard(42553, 'unknown_user'), invalidatesAtOnce: true },
  ],
  [
    '501 5.1.3 is judged by its enhanced code',
    { response: '501 5.1.3 Invalid address' },
    { ...hard(42553, 'unknown_user'), invalidatesAtOnce: true },
  ],
  [
    '553 mailbox name not allowed',
    { response: "553 sorry, that domain isn't in my list of allowed rcpthosts" },
    { ...hard(42553, 'refused'), invalidatesAtOnce: true },
  ],
  [
    'Microsoft 550 5.7.1 not authorized (recipient restricts senders)',
    { response: '550 5.7.1 RESOLVER.RST.NotAuthorized; not authorized' },
    { ...hard(42521, 'refused'), invalidatesAtOnce: true },
  ],
  [
    '521 host does not accept mail (RFC 7504)',
    { response: '521 5.3.2 mx.example.com does not accept mail' },
    { ...hard(42521, 'refused'), invalidatesAtOnce: true },
  ],
  [
    '556 domain does not accept mail',
    { response: '556 Domain does not accept mail' },
    { ...hard(42521, 'refused'), invalidatesAtOnce: true },
  ],
  // policy blocks: 42530, never against the recipient
  ['Gmail 550 5.7.1 likely unsolicited', { response: GMAIL_UNSOLICITED }, policyBlock()],
  [
    'Gmail 421 4.7.0 unusual rate of unsolicited mail',
    {
      responseCode: 421,
      response:
        '421-4.7.0 [203.0.113.5] Our system has detected an unusual rate of unsolicited mail originating from your IP address.',
    },
    policyBlock(),
  ],
  [
    'Gmail 421 4.7.0 try again later',
    { response: '421-4.7.0 Try again later, closing connection. (EHLO) a1si1 - gsmtp' },
    policyBlock(),
  ],
  [
    'Gmail 421 4.7.28 unusual rate from your domain',
    { response: '421-4.7.28 [203.0.113.5] Our system has detected an unusual rate of unsolicited mail' },
    policyBlock(),
  ],
  [
    'Gmail 550 5.7.28 unusual rate of unsolicited mail',
    { response: '550-5.7.28 [203.0.113.5] Our system has detected an unusual rate of unsolicited mail' },
    policyBlock(),
  ],
  [
    'Gmail 550 5.7.1 low reputation of the sending domain',
    { response: '550-5.7.1 This message was blocked because its sender domain has a low reputation.' },
    policyBlock(),
  ],
  [
    'Gmail 550 5.7.1 the IP is not authorized to send directly',
    {
      response:
        "550-5.7.1 [203.0.113.5] The IP you're using to send mail is not authorized to send email directly to our servers.",
    },
    policyBlock(),
  ],
  [
    'Microsoft 550 5.7.1 S3150 block list',
    {
      response:
        "550 5.7.1 Unfortunately, messages from [203.0.113.5] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150).",
    },
    policyBlock(),
  ],
  [
    'Microsoft 550 SC-001 without an enhanced code',
    {
      response:
        "550 SC-001 (BAY004-MC1F7) Unfortunately, messages from 203.0.113.5 weren't sent. Please contact your Internet service provider.",
    },
    policyBlock(),
  ],
  [
    'Microsoft 550 RP-001',
    { response: "550 RP-001 (COL004-MC1F40) Unfortunately, some messages from 203.0.113.5 weren't sent." },
    policyBlock(),
  ],
  [
    'Microsoft 451 4.7.500 server busy',
    { response: '451 4.7.500 Server busy. Please try again later from [203.0.113.5]. (S77714)' },
    policyBlock(),
  ],
  [
    'Yahoo 421 4.7.0 [TSS04] deferred for volume or complaints',
    {
      response:
        '421 4.7.0 [TSS04] Messages from 203.0.113.5 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes',
    },
    policyBlock(),
  ],
  [
    'Yahoo [TSS04] without an enhanced code',
    { response: '421 [TSS04] Messages from 203.0.113.5 temporarily deferred' },
    policyBlock(),
  ],
  [
    'Yahoo 553 5.7.1 [BL21] Spamhaus',
    {
      response:
        "553 5.7.1 [BL21] Connections will not be accepted from 203.0.113.5, because the ip is in Spamhaus's list; see https://postmaster.yahooinc.com/error-codes",
    },
    policyBlock(),
  ],
  [
    'Yahoo 554 5.7.9 not accepted for policy reasons',
    {
      response:
        '554 5.7.9 Message not accepted for policy reasons. See https://postmaster.yahooinc.com/error-codes',
    },
    policyBlock(),
  ],
  [
    'a greylisting 450 4.7.1',
    { response: '450 4.7.1 <a@example.com>: Recipient address rejected: Greylisted' },
    policyBlock(),
  ],
  ['another 5.7.x policy refusal', { response: '550 5.7.0 Local Policy Violation' }, policyBlock()],
  [
    'Gmail 450 4.2.1 receiving mail too quickly',
    {
      response:
        '450-4.2.1 The user you are trying to contact is receiving mail too quickly. Please resend your message at a later time.',
    },
    policyBlock(),
  ],
  [
    'Gmail 452 4.2.1 receiving mail at a rate',
    {
      response:
        '452-4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered.',
    },
    policyBlock(),
  ],
  ['452 4.5.3 too many recipients', { response: '452 4.5.3 Too many recipients' }, policyBlock()],
  // sender authentication: 42530, the stream halts
  [
    'Gmail 550 5.7.26 unauthenticated',
    {
      response:
        '550-5.7.26 This mail is unauthenticated, which poses a security risk to the sender and Gmail users, and has been blocked.',
    },
    policyBlock(),
  ],
  [
    'Microsoft 550 5.7.515 authentication level',
    {
      response:
        '550 5.7.515 Access denied, sending domain example.com does not meet the required authentication level.',
    },
    policyBlock(),
  ],
  [
    'a DMARC refusal under 5.7.1',
    { response: '550 5.7.1 Email rejected per DMARC policy for example.com' },
    policyBlock(),
  ],
  [
    'our sender domain refused (5.1.8)',
    { response: '553 5.1.8 <bounce@example.com>: Sender address rejected: Domain not found' },
    policyBlock(),
  ],
  // our relay's authentication: 42535
  [
    'Gmail 535 5.7.8 bad credentials',
    { response: '535-5.7.8 Username and Password not accepted.', command: 'AUTH PLAIN' },
    policyBlock(42535),
  ],
  [
    'Gmail 530 5.7.0 STARTTLS first',
    { response: '530 5.7.0 Must issue a STARTTLS command first.', command: 'MAIL FROM' },
    policyBlock(42535),
  ],
  // 500-504: soft
  ['500 command unrecognized', { response: '500 5.5.1 Command unrecognized' }, soft(42500, 'unreachable')],
  [
    '501 syntax error in parameters',
    { response: '501 5.5.4 Syntax error in parameters or arguments' },
    soft(42501, 'unreachable'),
  ],
  [
    '502 command not implemented',
    { response: '502 5.5.1 Command not implemented' },
    soft(42502, 'unreachable'),
  ],
  [
    '503 bad sequence of commands',
    { response: '503 5.5.1 Bad sequence of commands' },
    soft(42503, 'unreachable'),
  ],
  [
    '504 parameter not implemented',
    { response: '504 5.5.4 Command parameter not implemented' },
    soft(42504, 'unreachable'),
  ],
  [
    '555 MAIL/RCPT parameters not recognized',
    { response: '555 5.5.4 Unsupported option: SMTPUTF8' },
    soft(42504, 'unreachable'),
  ],
  // transaction failures and other temporary replies
  ['554 5.3.0 transaction failed', { response: '554 5.3.0 Transaction failed' }, soft(42554, 'unreachable')],
  ['554 without an enhanced code', { response: '554 Transaction failed' }, soft(42554, 'unreachable')],
  [
    '451 temporary local problem',
    { response: '451 4.3.0 Temporary local problem - please try later' },
    soft(42554, 'unreachable'),
  ],
  [
    'a 4xx unknown-user is only temporary',
    {
      response:
        '450 4.1.1 <a@example.com>: Recipient address rejected: User unknown in local recipient table',
    },
    soft(42554, 'unreachable'),
  ],
  [
    '421 service not available',
    { response: '421 4.3.2 Service not available, closing transmission channel' },
    soft(41601, 'unreachable'),
  ],
  [
    '421 without an enhanced code',
    { responseCode: 421, response: '421 mx.example.com Service not available' },
    soft(41601, 'unreachable'),
  ],
  // after the final dot
  ['550 after the final dot', { response: '550 Message rejected', command: 'DATA' }, hard(42559, 'refused')],
  [
    '550 5.1.1 after the final dot',
    { response: '550 5.1.1 User unknown', command: 'DATA' },
    hard(42559, 'unknown_user'),
  ],
  [
    '550 5.7.1 spam after the final dot stays a policy block',
    { response: '550 5.7.1 Message rejected as spam', command: 'DATA' },
    policyBlock(),
  ],
  [
    'Gmail 552 5.3.4 message too big: the recipient is fine, resending is pointless',
    { response: "552-5.3.4 Your message exceeded Google's message size limits.", command: 'DATA' },
    { code: 42554, errorType: 'soft', reason: 'refused', policyBlock: true, retryable: false },
  ],
  // not recognised
  [
    'an unknown 5xx is undefined, to be qualified, and still retried',
    { response: '559 Something nobody has seen before' },
    {
      code: 42554,
      result: 'error',
      errorType: 'undefined',
      reason: 'undefined',
      retryable: true,
      policyBlock: false,
    },
  ],
  ['an empty reply', {}, { code: 42554, errorType: 'undefined', reason: 'undefined' }],
];

const transportCases: ReadonlyArray<[string, TransportError, Expected]> = [
  [
    'connection refused (ESOCKET at CONN)',
    { code: 'ESOCKET', command: 'CONN', message: 'connect ECONNREFUSED 192.0.2.1:25' },
    relayFault(41601, 'relay_unreachable'),
  ],
  [
    'connection closed (ECONNECTION)',
    { code: 'ECONNECTION', command: 'CONN', message: 'Connection closed unexpectedly' },
    relayFault(41601, 'relay_unreachable'),
  ],
  [
    'greeting timeout',
    { code: 'ETIMEDOUT', command: 'CONN', message: 'Greeting never received' },
    relayFault(41601, 'relay_unreachable'),
  ],
  [
    'timeout while sending RCPT TO',
    { code: 'ETIMEDOUT', command: 'RCPT TO', message: 'Timeout' },
    relayFault(41601, 'relay_unreachable'),
  ],
  [
    'TLS handshake failed',
    { code: 'ETLS', command: 'STARTTLS', message: 'Error initiating TLS' },
    relayFault(41601, 'relay_tls'),
  ],
  [
    'a 421 that closed the connection',
    { code: 'ECONNECTION', command: 'CONN', response: '421 4.3.2 Service shutting down', responseCode: 421 },
    relayFault(41601, 'relay_unavailable'),
  ],
  [
    'an unknown error code without a reply',
    { code: 'EWHATEVER', message: 'Something broke' },
    relayFault(41601, 'relay_unreachable'),
  ],
  [
    'timeout waiting for the reply to the final dot: deemed delivered',
    { code: 'ETIMEDOUT', command: 'DATA', message: 'Timeout' },
    sent(40001),
  ],
  [
    "the relay's host name does not resolve (EDNS)",
    { code: 'EDNS', command: 'CONN', message: 'getaddrinfo ENOTFOUND relay.nowhere.invalid' },
    relayFault(41601, 'relay_dns'),
  ],
  [
    'a DNS error message without a code',
    { message: 'queryMx ENOTFOUND nowhere.invalid' },
    soft(41605, 'invalid_domain'),
  ],
  [
    'all recipients rejected (EENVELOPE at RCPT TO)',
    {
      code: 'EENVELOPE',
      command: 'RCPT TO',
      responseCode: 550,
      response:
        '550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in local recipient table',
    },
    hard(42550, 'unknown_user'),
  ],
  [
    'rejected after the final dot (EMESSAGE 550)',
    {
      code: 'EMESSAGE',
      command: 'DATA',
      responseCode: 550,
      response: '550 5.7.1 Message rejected due to content restrictions',
    },
    hard(42559, 'refused'),
  ],
  [
    'EMESSAGE 550 even without the command',
    { code: 'EMESSAGE', responseCode: 550, response: '550 Message refused' },
    hard(42559, 'refused'),
  ],
  [
    'the DATA verb itself refused is not "after the final dot"',
    { code: 'EENVELOPE', command: 'DATA', responseCode: 550, response: '550 Rejected' },
    hard(42550, 'refused'),
  ],
  [
    'content refused after the final dot',
    { code: 'EMESSAGE', command: 'DATA', responseCode: 554, response: '554 5.6.0 Message content rejected' },
    { code: 42554, policyBlock: true, retryable: false },
  ],
  [
    'our relay refuses us at its greeting with a blocklist reply (EPROTOCOL)',
    {
      code: 'EPROTOCOL',
      command: 'CONN',
      responseCode: 554,
      response: '554 5.7.1 Service unavailable; Client host [203.0.113.5] blocked using zen.spamhaus.org',
    },
    relayFault(41601, 'relay_unavailable'),
  ],
  [
    'our relay refuses our credentials (EAUTH)',
    {
      code: 'EAUTH',
      command: 'AUTH PLAIN',
      responseCode: 535,
      response: '535 5.7.8 Authentication credentials invalid',
    },
    policyBlock(42535),
  ],
  [
    'EAUTH wins over a 4.7.0 throttle reply',
    {
      code: 'EAUTH',
      command: 'AUTH LOGIN',
      responseCode: 454,
      response: '454 4.7.0 Too many login attempts',
    },
    policyBlock(42535),
  ],
  [
    'missing credentials (EAUTH without a reply)',
    { code: 'EAUTH', command: 'API', message: 'Missing credentials for "PLAIN"' },
    policyBlock(42535),
  ],
  [
    'no recipient at all: pre-error 91001',
    { code: 'EENVELOPE', command: 'API', message: 'No recipients defined' },
    {
      code: 91001,
      result: 'pre_error',
      errorType: 'hard',
      reason: 'address_not_specified',
      retryable: false,
    },
  ],
  [
    'an empty message is our own data error',
    { code: 'EMESSAGE', command: 'API', message: 'Empty message' },
    { code: 41609, result: 'error', policyBlock: true, retryable: false },
  ],
  [
    'an invalid sender is our own data error',
    { code: 'EENVELOPE', command: 'API', message: 'Invalid sender "x"' },
    { code: 41609, policyBlock: true, retryable: false },
  ],
  [
    'reading an attachment failed: our I/O, resent after recovery',
    { code: 'ESTREAM', message: 'ENOENT: no such file' },
    { code: 41608, result: 'error', policyBlock: true, retryable: true },
  ],
  [
    'sending aborted by us',
    { code: 'EABORT', message: 'Message sending aborted' },
    { code: 41607, policyBlock: true, retryable: false },
  ],
];

describe('classifySmtpReply', () => {
  test.each(replyCases)('%s', (_name, reply, expected) => {
    expect(classifySmtpReply(reply)).toMatchObject(expected);
  });
});

describe('classifyTransportError', () => {
  test.each(transportCases)('%s', (_name, err, expected) => {
    expect(classifyTransportError(err)).toMatchObject(expected);
  });

  test.each([
    ['5.7.26'],
    ['5.7.27'],
    ['5.7.30'],
    ['5.7.32'],
    ['5.7.40'],
    ['4.7.29'],
    ['4.7.30'],
    ['4.7.32'],
    ['4.7.40'],
    ['5.7.515'],
  ])('an SPF / DKIM / DMARC failure %s is a policy block, not a bad recipient', (enhanced) => {
    const basic = enhanced.startsWith('5') ? 550 : 421;
    const outcome = classifyTransportError({
      code: 'EENVELOPE',
      command: 'RCPT TO',
      responseCode: basic,
      response: `${basic} ${enhanced} Message rejected: sender authentication failed`,
    });
    expect(outcome).toMatchObject(policyBlock());
  });
});

describe('coverage of SPEC §3', () => {
  test('every code an SMTP reply or transport error can produce has a case above', () => {
    const produced = new Set(
      [
        ...replyCases.map(([, reply]) => classifySmtpReply(reply)),
        ...transportCases.map(([, err]) => classifyTransportError(err)),
      ].map((outcome) => outcome.code),
    );
    const expected = [
      40000, 40001, 41601, 41605, 42500, 42501, 42502, 42503, 42504, 42521, 42530, 42535, 42550, 42551, 42552,
      42553, 42554, 42559,
    ];
    for (const code of expected) expect(produced).toContain(code);
  });

  test('every rule of the table is exercised by a case above', () => {
    const used = new Set(
      [
        ...replyCases.map(([, reply]) => classificationFacts(reply)),
        ...transportCases.map(([, err]) => classificationFacts(err)),
      ].map((facts) => findClassificationRule(facts).id),
    );
    // The catch-alls for 1xx/3xx and for unknown transport errors are exercised too ({} and EWHATEVER).
    expect(SMTP_CLASSIFICATION_RULES.map((rule) => rule.id).filter((id) => !used.has(id))).toEqual([]);
  });
});

describe('the rule table', () => {
  test('rule ids are unique and the last rule catches everything', () => {
    const ids = SMTP_CLASSIFICATION_RULES.map((rule) => rule.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(SMTP_CLASSIFICATION_RULES[SMTP_CLASSIFICATION_RULES.length - 1]?.when).toEqual([{}]);
  });

  test.each(SMTP_CLASSIFICATION_RULES.map((rule) => [rule.id, rule] as const))(
    'rule %s gives a SPEC §3 code with a type its SPEC §5 reason allows',
    (_id, rule) => {
      const codeClass = DELIVERY_CODES[rule.code]?.class;
      expect(codeClass).toBeDefined();
      if (codeClass === 'success') {
        expect(rule.errorType).toBeNull();
        expect(rule.reason).toBeNull();
      } else {
        expect(rule.reason).not.toBeNull();
        expect(rule.errorType).not.toBeNull();
        if (rule.reason && rule.errorType) expect(ERROR_REASONS[rule.reason].types).toContain(rule.errorType);
      }
      // A hard SPEC class is never given a soft type, and the reverse.
      if (codeClass === 'hard' || codeClass === 'permanent') expect(rule.errorType).toBe('hard');
      if (codeClass === 'soft') expect(rule.errorType).not.toBe('hard');
    },
  );

  test('a hard outcome is never retryable and a policy block never invalidates at once', () => {
    for (const [, reply] of replyCases) {
      const outcome = classifySmtpReply(reply);
      if (outcome.errorType === 'hard') expect(outcome.retryable).toBe(false);
      if (outcome.policyBlock) expect(outcome.invalidatesAtOnce).toBe(false);
    }
  });
});

describe('parsing', () => {
  test.each([
    ['550-5.1.1 The email account', '5.1.1'],
    ['550 5.1.10 RESOLVER.ADR.RecipientNotFound', '5.1.10'],
    ['550 5.7.515 Access denied', '5.7.515'],
    ['421 4.7.0 [TSS04] … - 4.16.55.1; see', '4.7.0'],
    ['421 deferred - 4.16.55.1', null],
    ['550 rejected from 192.168.1.1', null],
    ['554 delivery error: mailbox is disabled (554.30)', null],
    ['250 OK', null],
  ])('the RFC 3463 code in %p is %p', (text, expected) => {
    expect(parseEnhancedStatusCode(text)).toBe(expected);
  });

  test('the basic code comes from the reply text when responseCode is missing', () => {
    expect(classificationFacts({ response: '552-5.2.2 over quota' }).basicCode).toBe(552);
    expect(classificationFacts({ responseCode: 451, response: 'no digits' }).basicCode).toBe(451);
  });

  test('commands and error codes are compared case-insensitively', () => {
    expect(classifyTransportError({ code: 'etimedout', command: 'data' }).code).toBe(40001);
  });
});

describe('outcome details', () => {
  test('the detail holds the meaning, the command and the remote reply on one line', () => {
    const outcome = classifySmtpReply({ response: GMAIL_NO_SUCH_USER, command: 'RCPT TO' });
    expect(outcome.detail).toMatch(
      /^mailbox unavailable \(unknown user or refused\) \[RCPT TO\]: 550-5\.1\.1 The email/,
    );
    expect(outcome.detail).toContain('NoSuchUser');
    expect(outcome.detail).not.toContain('\n');
  });

  test('a transport error without a reply shows its code and message', () => {
    const outcome = classifyTransportError({
      code: 'ESOCKET',
      command: 'CONN',
      message: 'connect ECONNREFUSED 192.0.2.1:25',
    });
    expect(outcome.detail).toBe(
      'could not connect to the receiving server [CONN]: the relay cannot be reached (connection refused, reset or timed out): ESOCKET connect ECONNREFUSED 192.0.2.1:25',
    );
  });

  test('a very long reply is cut to 1000 characters', () => {
    const outcome = classifySmtpReply({ response: `550 5.1.1 ${'x'.repeat(5000)}` });
    expect(outcome.detail.length).toBe(1000);
    expect(outcome.detail.endsWith('…')).toBe(true);
  });
});

describe('outcomes without a reply', () => {
  test('an accepted message is 40000', () => {
    expect(classifyAcceptedMessage()).toMatchObject(sent(40000));
  });

  test('a missing address is a pre-error 91001 that is never retried', () => {
    expect(preErrorMissingAddress('lead has no email')).toEqual({
      code: 91001,
      result: 'pre_error',
      errorType: 'hard',
      reason: 'address_not_specified',
      retryable: false,
      invalidatesAtOnce: false,
      policyBlock: false,
      relayFault: null,
      refusalSignature: null,
      detail: 'address empty or not an email address: lead has no email',
    });
    expect(preErrorMissingAddress().detail).toBe('address empty or not an email address');
  });
});
