import {
  RELAY_AGREEMENT_MIN_RECIPIENTS,
  RELAY_FAULT_PATTERNS,
  findRelayFault,
  relayHoldMs,
  relayRefusalByAgreement,
  type RelayFaultReason,
} from '../../domain/relay-faults';
import {
  classificationFacts,
  classifyTransportError,
  type TransportError,
} from '../../domain/smtp-classification';

// What nodemailer reports (shapes checked against a real nodemailer 10 talking to real sockets).
const relayCases: ReadonlyArray<[string, TransportError, RelayFaultReason, string]> = [
  [
    'the relay host does not resolve',
    { code: 'EDNS', command: 'CONN', message: 'getaddrinfo ENOTFOUND relay.invalid' },
    'relay_dns',
    'relay-host-does-not-resolve',
  ],
  [
    'a DNS error code in the message only',
    { code: 'ESOCKET', command: 'CONN', message: 'getaddrinfo EAI_AGAIN relay.example' },
    'relay_dns',
    'relay-host-does-not-resolve',
  ],
  [
    'TLS failed (ETLS)',
    { code: 'ETLS', command: 'STARTTLS', message: 'Error initiating TLS' },
    'relay_tls',
    'relay-tls-failed',
  ],
  [
    'smtps against a plain port',
    {
      code: 'ESOCKET',
      command: 'CONN',
      message: '80AC:error:0A00010B:SSL routines:ssl3_get_record:wrong version number',
    },
    'relay_tls',
    'relay-tls-failed',
  ],
  [
    'credentials refused (EAUTH 535)',
    {
      code: 'EAUTH',
      command: 'AUTH PLAIN',
      responseCode: 535,
      response: '535 5.7.8 Authentication credentials invalid',
    },
    'relay_auth',
    'relay-authentication-failed',
  ],
  [
    'authentication required at MAIL FROM (no credentials configured)',
    {
      code: 'EENVELOPE',
      command: 'MAIL FROM',
      responseCode: 530,
      response: '530 Error: authentication Required',
    },
    'relay_auth',
    'relay-authentication-failed',
  ],
  [
    'Postfix relay access denied at RCPT',
    {
      code: 'EENVELOPE',
      command: 'RCPT TO',
      responseCode: 554,
      response: '554 5.7.1 <a@example.test>: Relay access denied',
    },
    'relay_refused',
    'relay-access-denied',
  ],
  [
    'Postfix deferred relay access denied (454 4.7.1)',
    {
      code: 'EENVELOPE',
      command: 'RCPT TO',
      responseCode: 454,
      response: '454 4.7.1 <a@example.test>: Relay access denied',
    },
    'relay_refused',
    'relay-access-denied',
  ],
  [
    'Exchange unable to relay',
    {
      code: 'EENVELOPE',
      command: 'RCPT TO',
      responseCode: 550,
      response: '550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain',
    },
    'relay_refused',
    'relay-access-denied',
  ],
  [
    'sendmail relaying denied',
    {
      code: 'EENVELOPE',
      command: 'RCPT TO',
      responseCode: 550,
      response: '550 5.7.1 <a@example.test>... Relaying denied',
    },
    'relay_refused',
    'relay-access-denied',
  ],
  [
    'qmail rcpthosts',
    {
      code: 'EENVELOPE',
      command: 'RCPT TO',
      responseCode: 553,
      response: "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)",
    },
    'relay_refused',
    'relay-access-denied',
  ],
  [
    'not permitted to relay',
    {
      code: 'EENVELOPE',
      command: 'RCPT TO',
      responseCode: 550,
      response: '550 5.7.1 Client is not permitted to relay',
    },
    'relay_refused',
    'relay-access-denied',
  ],
  [
    '421 at greeting',
    {
      code: 'ECONNECTION',
      command: 'CONN',
      responseCode: 421,
      response: '421 4.3.2 Service not available, closing transmission channel',
    },
    'relay_unavailable',
    'relay-unavailable',
  ],
  [
    '554 at greeting',
    { code: 'EPROTOCOL', command: 'CONN', responseCode: 554, response: '554 5.7.1 No SMTP service here' },
    'relay_unavailable',
    'relay-unavailable',
  ],
  [
    'our sender refused at MAIL FROM',
    {
      code: 'EENVELOPE',
      command: 'MAIL FROM',
      responseCode: 553,
      response: '553 5.7.1 <n@example.test>: Sender address rejected: not owned by user',
    },
    'relay_sender_refused',
    'relay-refused-sender',
  ],
  [
    'connection refused',
    { code: 'ESOCKET', command: 'CONN', message: 'connect ECONNREFUSED 127.0.0.1:2525' },
    'relay_unreachable',
    'relay-unreachable',
  ],
  [
    'connection dropped at RCPT',
    { code: 'ECONNECTION', command: 'RCPT TO', message: 'Connection closed unexpectedly' },
    'relay_unreachable',
    'relay-unreachable',
  ],
  [
    'greeting never received',
    { code: 'ETIMEDOUT', command: 'CONN', message: 'Greeting never received' },
    'relay_unreachable',
    'relay-unreachable',
  ],
];

describe('relay faults: never the recipient', () => {
  test.each(relayCases)('%s', (_name, err, reason, patternId) => {
    expect(findRelayFault(classificationFacts(err))).toMatchObject({ reason, patternId });
    const outcome = classifyTransportError(err);
    expect(outcome).toMatchObject({
      result: 'error',
      relayFault: reason,
      policyBlock: true,
      invalidatesAtOnce: false,
      retryable: true,
    });
  });

  test('every pattern of the table has a case above', () => {
    const seen = new Set(relayCases.map(([, , , id]) => id));
    expect(RELAY_FAULT_PATTERNS.map((p) => p.id).filter((id) => !seen.has(id))).toEqual([]);
  });
});

const recipientCases: ReadonlyArray<[string, TransportError]> = [
  [
    'unknown user at RCPT',
    {
      code: 'EENVELOPE',
      command: 'RCPT TO',
      responseCode: 550,
      response: '550 5.1.1 <a@x.test>: User unknown',
    },
  ],
  [
    'mailbox full at RCPT',
    { code: 'EENVELOPE', command: 'RCPT TO', responseCode: 452, response: '452 4.2.2 Mailbox full' },
  ],
  [
    'spam refused after the final dot',
    { code: 'EMESSAGE', command: 'DATA', responseCode: 550, response: '550 5.7.1 Message rejected as spam' },
  ],
  [
    'a greylisting 4.7.1 at RCPT',
    { code: 'EENVELOPE', command: 'RCPT TO', responseCode: 451, response: '451 4.7.1 Greylisted, try later' },
  ],
  [
    'a 421 4.7.0 throttle at RCPT (a stream policy, already spared by the classification)',
    { code: 'EENVELOPE', command: 'RCPT TO', responseCode: 421, response: '421 4.7.0 Try again later' },
  ],
  [
    'message too big at MAIL FROM',
    {
      code: 'EENVELOPE',
      command: 'MAIL FROM',
      responseCode: 552,
      response: '552 5.3.4 Message size exceeds fixed limit',
    },
  ],
  [
    'a refusal at RCPT without a relay text',
    {
      code: 'EENVELOPE',
      command: 'RCPT TO',
      responseCode: 554,
      response: '554 5.7.1 <a@x.test>: Recipient address rejected: Access denied',
    },
  ],
];

describe('recipient-level outcomes stay with the recipient', () => {
  test.each(recipientCases)('%s', (_name, err) => {
    expect(findRelayFault(classificationFacts(err))).toBeNull();
    expect(classifyTransportError(err).relayFault).toBeNull();
  });

  test('a timeout after the final dot is a delivery, not a relay fault', () => {
    expect(classifyTransportError({ code: 'ETIMEDOUT', command: 'DATA', message: 'Timeout' })).toMatchObject({
      code: 40001,
      result: 'sent',
      relayFault: null,
    });
  });

  test('our own local failures (invalid sender, aborted) are not relay faults', () => {
    expect(
      classifyTransportError({ code: 'EENVELOPE', command: 'API', message: 'Invalid sender' }).relayFault,
    ).toBeNull();
    expect(classifyTransportError({ code: 'EABORT', message: 'aborted' }).relayFault).toBeNull();
  });
});

describe('agreement: the same refusal for everybody', () => {
  const refusal = (to: string) =>
    classifyTransportError({
      code: 'EENVELOPE',
      command: 'RCPT TO',
      responseCode: 554,
      response: `554 5.7.1 <${to}>: Recipient address rejected: Access denied`,
    });
  const sighting = (to: string) => ({ domain: to.split('@')[1]!, signature: refusal(to).refusalSignature! });

  test('a policy refusal at RCPT carries a signature without the recipient; an unknown user none', () => {
    expect(refusal('a@x.test').refusalSignature).toBe(refusal('b@y.test').refusalSignature);
    expect(
      classifyTransportError({
        code: 'EENVELOPE',
        command: 'RCPT TO',
        responseCode: 550,
        response: '550 5.1.1 <a@x.test>: User unknown',
      }).refusalSignature,
    ).toBeNull();
  });

  test('enough recipients of several domains with one refusal and nothing accepted: the relay', () => {
    const s = ['a@x.test', 'b@y.test', 'c@x.test'].map(sighting);
    expect(s).toHaveLength(RELAY_AGREEMENT_MIN_RECIPIENTS);
    expect(relayRefusalByAgreement(s, 0)).toBe(true);
  });

  test('an acceptance in between, a single domain, too few recipients or different replies: not the relay', () => {
    const three = ['a@x.test', 'b@y.test', 'c@x.test'].map(sighting);
    expect(relayRefusalByAgreement(three, 1)).toBe(false);
    expect(relayRefusalByAgreement(['a@x.test', 'b@x.test', 'c@x.test'].map(sighting), 0)).toBe(false);
    expect(relayRefusalByAgreement(three.slice(0, 2), 0)).toBe(false);
    expect(relayRefusalByAgreement([...three.slice(0, 2), { domain: 'z.test', signature: 'other' }], 0)).toBe(
      false,
    );
  });
});

describe('hold before the relay is tried again', () => {
  test('the first hold, then as long as the fault lasted, capped', () => {
    expect(relayHoldMs(1000, 1000, 30_000, 600_000)).toBe(30_000);
    expect(relayHoldMs(0, 120_000, 30_000, 600_000)).toBe(120_000);
    expect(relayHoldMs(0, 10_000_000, 30_000, 600_000)).toBe(600_000);
  });
});
