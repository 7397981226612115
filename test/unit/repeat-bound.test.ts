import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../config/config';
import { emailSendConcurrency, repeatBound, unrecordedPerBatch } from '../../domain/repeat-bound';

test('when the settings are the defaults, then the bound the README states is the one the code enforces', () => {
  const config = loadConfig({});
  const sendConcurrency = emailSendConcurrency(config.smtpMaxConnections);
  const bound = repeatBound({ sendConcurrency, batchesInFlight: config.sendBatchesInFlight });
  expect(bound).toBe(unrecordedPerBatch(sendConcurrency) * config.sendBatchesInFlight);
  const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8').replace(/\s+/g, ' ');
  expect(readme).toContain(
    `2 × ${sendConcurrency} × ${config.sendBatchesInFlight} = ${bound} with the defaults`,
  );
});

test('when a batch has one message on the wire at a time, then it may still hold one more unrecorded', () => {
  expect(unrecordedPerBatch(1)).toBe(2);
  expect(repeatBound({ sendConcurrency: 1, batchesInFlight: 1 })).toBe(2);
});
