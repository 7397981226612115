import {
  classifyLinePushResponse,
  classifyLineTransportFailure,
  parseRetryAfter,
  type LineHttpResponse,
  type LinePushOutcome,
} from '../../domain/line-outcome';

const NOW = Date.parse('2026-11-23T10:00:00Z');

function response(
  status: number,
  body: unknown = null,
  headers: Record<string, string> = {},
): LineHttpResponse {
  return { status, body, headers: { 'x-line-request-id': 'req-1', ...headers } };
}

describe('classifyLinePushResponse', () => {
  test.each<[string, LineHttpResponse, Partial<LinePushOutcome>]>([
    [
      'when LINE answers 200 with sentMessages, then the push is sent with the message ids',
      response(200, {
        sentMessages: [{ id: '461230966842064897', quoteToken: 'q1' }, { id: '461230966842064898' }],
      }),
      {
        kind: 'sent',
        result: 'sent',
        retryable: false,
        sentMessageIds: ['461230966842064897', '461230966842064898'],
        requestId: 'req-1',
      },
    ],
    [
      'when LINE answers 200 with an empty body, then the push is sent without ids',
      response(200, null),
      { kind: 'sent', result: 'sent', sentMessageIds: [] },
    ],
    [
      'when LINE answers 409 with the accepted request id, then it counts as sent and names the first request',
      response(
        409,
        { message: 'The retry key is already accepted' },
        { 'x-line-accepted-request-id': 'req-0' },
      ),
      { kind: 'already_accepted', result: 'sent', retryable: false, acceptedRequestId: 'req-0' },
    ],
    [
      'when LINE answers 409 without the header, then it still counts as sent',
      response(409, { message: 'The retry key is already accepted' }),
      { kind: 'already_accepted', result: 'sent', acceptedRequestId: null },
    ],
    [
      'when LINE answers 429 with the monthly-limit message, then it is an account-wide pre-error, not retried',
      response(429, { message: 'You have reached your monthly limit.' }),
      { kind: 'monthly_limit', result: 'pre_error', retryable: false, accountWide: true },
    ],
    [
      'when LINE answers 429 "Too many requests", then it is a retryable rate limit',
      response(429, { message: 'Too many requests' }),
      { kind: 'rate_limited', result: 'error', retryable: true, retryAfterMs: null },
    ],
    [
      'when a rate limit carries Retry-After seconds, then the wait is given in ms',
      response(429, { message: 'Too many requests' }, { 'retry-after': '7' }),
      { kind: 'rate_limited', retryAfterMs: 7000 },
    ],
    [
      'when a 429 has no readable body, then it is taken as a rate limit (never as the monthly limit)',
      response(429, null),
      { kind: 'rate_limited', retryable: true },
    ],
    [
      'when LINE answers 400 with details, then it is a permanent invalid request naming the property',
      response(400, {
        message: 'The request body has 1 error(s)',
        details: [{ message: 'May not be empty', property: 'messages[0].text' }],
      }),
      {
        kind: 'invalid_request',
        result: 'error',
        retryable: false,
        accountWide: false,
        details: [{ message: 'May not be empty', property: 'messages[0].text' }],
        detail: '400 The request body has 1 error(s) (messages[0].text: May not be empty)',
      },
    ],
    [
      'when LINE answers 400 "Failed to send messages", then it is a permanent invalid request for this recipient',
      response(400, { message: 'Failed to send messages' }),
      {
        kind: 'invalid_request',
        retryable: false,
        accountWide: false,
        detail: '400 Failed to send messages',
      },
    ],
    [
      'when LINE answers 401, then the account token is the problem and nothing is retried',
      response(401, { message: 'Authentication failed due to the following reason: invalid token.' }),
      { kind: 'unauthorized', result: 'error', retryable: false, accountWide: true },
    ],
    [
      'when LINE answers 403, then the plan forbids it and nothing is retried',
      response(403, { message: 'Access to this API is not available for your account' }),
      { kind: 'forbidden', retryable: false, accountWide: true },
    ],
    [
      'when LINE answers 500, then it is retryable',
      response(500, { message: 'Internal server error' }),
      { kind: 'server_error', result: 'error', retryable: true, accountWide: false },
    ],
    [
      'when LINE answers 503 with an HTML page, then it is retryable',
      response(503, null),
      { kind: 'server_error', retryable: true },
    ],
    [
      'when LINE answers 408, then it is retryable like a server error',
      response(408, null),
      { kind: 'server_error', retryable: true },
    ],
    [
      'when LINE answers 413, then it is a permanent invalid request',
      response(413, { message: 'too large' }),
      { kind: 'invalid_request', retryable: false },
    ],
    [
      'when LINE answers a redirect, then it is an unexpected status, not a success',
      response(302, null),
      { kind: 'unexpected_status', result: 'error', retryable: false },
    ],
  ])('%s', (_name, input, expected) => {
    expect(classifyLinePushResponse(input, NOW)).toMatchObject(expected);
  });

  test('when details are malformed, then only the readable ones are kept', () => {
    const outcome = classifyLinePushResponse(
      response(400, { message: 'bad', details: [42, { message: 'Must be a string', property: 'to' }, {}] }),
      NOW,
    );
    expect(outcome.details).toEqual([{ message: 'Must be a string', property: 'to' }]);
  });
});

describe('classifyLineTransportFailure', () => {
  test.each([
    ['timeout' as const, 'no response within 100 ms', 'no answer from LINE: no response within 100 ms'],
    [
      'network_error' as const,
      'ECONNREFUSED connect ECONNREFUSED 127.0.0.1:1',
      'cannot reach LINE: ECONNREFUSED connect ECONNREFUSED 127.0.0.1:1',
    ],
  ])('when the request fails with %s, then it is retryable without a status', (kind, message, detail) => {
    expect(classifyLineTransportFailure({ kind, message })).toMatchObject({
      kind,
      result: 'error',
      retryable: true,
      status: null,
      detail,
    });
  });
});

describe('parseRetryAfter', () => {
  test.each<[string, string | undefined, number | null]>([
    ['when absent, then null', undefined, null],
    ['when delta-seconds, then that many ms', '30', 30_000],
    ['when an HTTP date 90 s ahead, then 90 000 ms', 'Mon, 23 Nov 2026 10:01:30 GMT', 90_000],
    ['when an HTTP date in the past, then 0', 'Mon, 23 Nov 2026 09:00:00 GMT', 0],
    ['when unreadable, then null', 'soon', null],
  ])('%s', (_name, value, expected) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });
});
