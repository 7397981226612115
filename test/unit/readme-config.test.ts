import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_KEYS, loadConfig, sendQueueFor, sendRateFor } from '../../config/config';

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

describe('the README stays true', () => {
  // A setting every channel has is documented once, by its pattern (TASK_QUEUE_<CHANNEL>).
  const documented = [...new Map(CONFIG_KEYS.map((k) => [k.family?.env ?? k.env, k.family ?? k])).values()];
  test.each(documented.map((k) => [k.env, k.default]))(
    'when %s is a setting, then the configuration table lists it with its default',
    (env, def) => {
      const row = readme.split('\n').find((l) => new RegExp(`^\\|\\s*\`${env}\`\\s*\\|`).test(l));
      expect(row).toBeDefined();
      expect(row).toContain(def === '' ? '(empty)' : `\`${def}\``);
    },
  );
});

describe('configuration', () => {
  test('when a number setting is not a number, then start-up fails naming it', () => {
    expect(() => loadConfig({ SEND_BATCH_SIZE: 'lots' })).toThrow(
      /SEND_BATCH_SIZE must be a non-negative integer/,
    );
  });

  test('when the public base URL is not absolute, then start-up fails naming it', () => {
    expect(() => loadConfig({ PUBLIC_BASE_URL: 'example.com/x' })).toThrow(
      /PUBLIC_BASE_URL must be an absolute URL/,
    );
  });

  test('when nothing is set, then the documented defaults apply', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 3000,
      sendBatchSize: 1000,
      invalidAfterErrors: 3,
      taskQueueEmail: 'send-email',
    });
  });

  test('when a channel has no queue setting of its own, then its queue is named after it', () => {
    const c = loadConfig({ TASK_QUEUE_SMS: 'sms-here', LINE_BATCHES_PER_SECOND: '7' });
    expect(sendQueueFor(c, 'sms')).toBe('sms-here');
    expect(sendQueueFor(c, 'line')).toBe('send-line');
    expect(sendRateFor(c, 'line')).toBe(7);
    expect(sendRateFor(c, 'email')).toBe(0);
  });
});
