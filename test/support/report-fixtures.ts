// Hand-written reports as receiving MTAs send them (Postfix, Exchange, ARF
// feedback loops, vacation responders), for the inbound pipeline's tests.
import { randomBytes } from 'node:crypto';

/** A lower-case word unique to this call: digits would be normalized away in bounce texts. */
export function uniqueWord(): string {
  return [...randomBytes(6)].map((b) => String.fromCharCode(97 + (b % 26))).join('');
}

const CRLF = (s: string) => s.replace(/\r?\n/g, '\r\n');

export interface OriginalMessage {
  token: string;
  bounceDomain: string;
  to: string;
}

function originalHeaders(o: OriginalMessage): string {
  return `From: news@example.test
To: ${o.to}
Subject: Our news
Message-ID: <${o.token}@${o.bounceDomain}>
X-Send-Token: ${o.token}
Date: Mon, 23 Nov 2026 10:00:00 +0000
`;
}

/** Postfix bounce: addressed to the VERP return path, original attached. */
export function postfixDsn(
  o: OriginalMessage & {
    diagnostic: string;
    action?: string;
    status?: string;
    verpTo?: string;
    boundary?: string;
  },
): string {
  const b = o.boundary ?? `pf-${uniqueWord()}`;
  return CRLF(`Return-Path: <>
From: MAILER-DAEMON@mx.receiver.example (Mail Delivery System)
To: ${o.verpTo ?? `b+${o.token}@${o.bounceDomain}`}
Subject: Undelivered Mail Returned to Sender
Message-ID: <${uniqueWord()}@mx.receiver.example>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="${b}"

--${b}
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.receiver.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

--${b}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.receiver.example
X-Postfix-Queue-ID: 4Fb2Xk0abcz
Arrival-Date: Mon, 23 Nov 2026 10:00:01 +0000

Final-Recipient: rfc822; ${o.to}
Original-Recipient: rfc822;${o.to}
Action: ${o.action ?? 'failed'}
Status: ${o.status ?? '5.1.1'}
Remote-MTA: dns; mailstore.receiver.example
Diagnostic-Code: smtp; ${o.diagnostic}

--${b}
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

${originalHeaders(o)}
--${b}--
`);
}

/** Exchange-style NDR: sent to a plain address, ENVID echoed, no VERP. */
export function exchangeDsn(o: {
  envelopeId: string;
  to: string;
  diagnostic: string;
  reportTo: string;
}): string {
  const b = `ex-${uniqueWord()}`;
  return CRLF(`From: postmaster@outlook.example
To: ${o.reportTo}
Subject: Undeliverable: Our news
Content-Type: multipart/report; report-type=delivery-status; boundary="${b}"
MIME-Version: 1.0

--${b}
Content-Type: text/plain; charset="us-ascii"

Delivery has failed to these recipients or groups:

--${b}
Content-Type: message/delivery-status

Reporting-MTA: dns;AM0PR01MB1234.eurprd01.prod.exchangelabs.com
Received-From-MTA: dns;relay.example.test
Arrival-Date: Mon, 23 Nov 2026 10:00:02 +0000
Original-Envelope-Id: ${o.envelopeId}

Final-Recipient: rfc822;${o.to}
Action: failed
Status: 5.1.10
Diagnostic-Code: smtp;${o.diagnostic}

--${b}--
`);
}

/** An ARF (RFC 5965) feedback report with the original attached. */
export function arfReport(o: OriginalMessage & { feedbackType?: string; reportTo?: string }): string {
  const b = `arf-${uniqueWord()}`;
  return CRLF(`From: fbl@isp.example
To: ${o.reportTo ?? `fbl@${o.bounceDomain}`}
Subject: FW: Our news
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="${b}"

--${b}
Content-Type: text/plain; charset="US-ASCII"

This is an email abuse report for an email message received from IP 192.0.2.1.

--${b}
Content-Type: message/feedback-report

Feedback-Type: ${o.feedbackType ?? 'abuse'}
User-Agent: SomeGenerator/1.0
Version: 1
Original-Rcpt-To: <${o.to}>
Arrival-Date: Mon, 23 Nov 2026 10:05:00 +0000
Source-IP: 192.0.2.1

--${b}
Content-Type: message/rfc822
Content-Disposition: inline

${originalHeaders(o)}
Hello
--${b}--
`);
}

export function vacationReply(o: { token: string; bounceDomain: string }): string {
  return CRLF(`From: someone@receiver.example
To: b+${o.token}@${o.bounceDomain}
Subject: Out of Office: Our news
Auto-Submitted: auto-replied
Content-Type: text/plain

I am away until Monday.
`);
}

export function plainMail(to: string): string {
  return CRLF(`From: a.person@receiver.example
To: ${to}
Subject: hello there

Just a normal message, not a report.
`);
}

/** Cut a report off in the middle of its delivery-status part. */
export function truncate(report: string): string {
  const at = report.indexOf('Action:');
  return report.slice(0, at + 'Action: failed'.length);
}
