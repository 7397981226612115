// `npm run classify -- FILE.eml …`: how would the pipeline read these bounces?
// One JSON line per file: the format, and per recipient the decision and its
// evidence. No database: the same reading and classification code as the
// pipeline (inbound/process-report.ts readAndDecide) with the built-in rules
// only; user rules, which live in the database, are skipped, and nothing is
// correlated to a send.
import { readFile } from 'node:fs/promises';
import { readAndDecide } from '../inbound/process-report';

async function classifyFile(file: string): Promise<Record<string, unknown>> {
  const raw = await readFile(file);
  const { reading, classification: c } = await readAndDecide(raw, []);
  return {
    file,
    kind: c.kind,
    format: c.format,
    detail: reading.detail,
    recipients: c.recipients.map((o) => ({
      recipient: o.recipient,
      action: o.action,
      status: o.statusCode,
      diagnostic: o.reading?.diagnostic ?? null,
      decision:
        o.qualification === null
          ? null
          : {
              errorType: o.qualification.errorType,
              reason: o.qualification.reason,
              code: o.qualification.code,
              fault: o.qualification.fault,
              countsAgainstRecipient: o.qualification.countsAgainstRecipient,
              refusedByPolicy: o.qualification.refusedByPolicy,
              rule: o.qualification.ruleId,
            },
      evidence: o.evidence,
    })),
  };
}

async function main(files: readonly string[]): Promise<number> {
  if (files.length === 0) {
    process.stderr.write('usage: npm run classify -- FILE.eml [FILE.eml …]\n');
    return 2;
  }
  let failed = 0;
  for (const file of files) {
    try {
      process.stdout.write(`${JSON.stringify(await classifyFile(file))}\n`);
    } catch (err) {
      failed++;
      process.stdout.write(
        `${JSON.stringify({ file, error: err instanceof Error ? err.message : String(err) })}\n`,
      );
    }
  }
  return failed === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
