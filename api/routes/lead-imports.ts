// Background CSV imports (issue 23): POST streams the file into the database
// in chunks (never whole in memory) and starts the import's workflow; GET
// reads its progress, rejected.csv its rejected rows with their reasons, and
// DELETE (or POST …/cancel) stops it between two batches. Leads at
// /v1/lead-imports, address statuses (issue 18) at /v1/address-imports: the
// same machinery, the same answers.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Readable } from 'node:stream';
import { CSV_CHARSETS, csvEncodingOf, type CsvEncoding } from '../../domain/csv-charset';
import { csvLine } from '../../domain/csv-safety';
import { ADDRESS_CSV_COLUMNS, OPERATOR_STATUSES } from '../../domain/address-status';
import type { ImportJobRow, ImportKind, ImportStatus } from '../../db/import-queries';
import { cancelImportWorkflow, startImport } from '../../lifecycle/lead-import';
import { ApiError, conflict, notFound } from '../errors';
import { repository } from '../plugins/repositories';
import { routesPlugin } from '../plugins/named-plugin';
import { actorOf } from '../plugins/auth';
import { ErrorBody, IdParams, Nullable, NullableTimestamp, Timestamp, iso } from '../schemas';

/** The largest file a background import takes (a million leads with attributes fit many times over). */
const IMPORT_MAX_BYTES = 2 * 1024 * 1024 * 1024;
/** Bytes per stored chunk of the file. */
const CHUNK_BYTES = 1024 * 1024;

export const ImportJob = Type.Object(
  {
    id: Type.Integer(),
    kind: Type.Union([Type.Literal('leads'), Type.Literal('addresses')]),
    status: Type.Unsafe<ImportStatus>({
      type: 'string',
      enum: ['receiving', 'queued', 'running', 'completed', 'failed', 'cancelled'],
      description:
        'receiving (the upload), queued, running, then completed, failed (see error) or cancelled; rows committed before a cancel or a failure stay',
    }),
    onDuplicate: Type.String({ description: 'update or skip (leads); addresses always update' }),
    encoding: Nullable(Type.String({ description: 'the encoding the file is read in (given or detected)' })),
    bytes: Type.Integer(),
    columns: Type.Array(Type.String(), { description: 'the header row, once read' }),
    progress: Type.Object({
      rowsRead: Type.Integer({ description: 'data rows read (the header not counted)' }),
      inserted: Type.Integer(),
      updated: Type.Integer(),
      skipped: Type.Integer({ description: 'rows matching an existing lead under onDuplicate=skip' }),
      rejected: Type.Integer({
        description: 'invalid rows and duplicates inside the file (see rejected.csv)',
      }),
    }),
    error: Nullable(Type.String({ description: 'why a failed import stopped (row and column when known)' })),
    createdBy: Nullable(
      Type.String({ description: 'the name of the API key or console user that started it' }),
    ),
    createdAt: Timestamp,
    startedAt: NullableTimestamp,
    finishedAt: NullableTimestamp,
    rejectedReport: Type.String({ description: 'path of the rejected rows as CSV' }),
  },
  { $id: 'ImportJob' },
);

function pathOf(kind: ImportKind): string {
  return kind === 'leads' ? '/v1/lead-imports' : '/v1/address-imports';
}

function jobJson(j: ImportJobRow): Static<typeof ImportJob> {
  return {
    id: j.id,
    kind: j.kind,
    status: j.status as ImportStatus,
    onDuplicate: j.on_duplicate,
    encoding: j.encoding,
    bytes: Number(j.bytes),
    columns: j.columns,
    progress: {
      rowsRead: j.rows_read,
      inserted: j.inserted,
      updated: j.updated,
      skipped: j.skipped,
      rejected: j.rejected,
    },
    error: j.error,
    createdBy: j.created_by,
    createdAt: iso(j.created_at)!,
    startedAt: iso(j.started_at),
    finishedAt: iso(j.finished_at),
    rejectedReport: `${pathOf(j.kind)}/${j.id}/rejected.csv`,
  };
}

/** The encoding of a file given as a stream: the charset when named, else a BOM, else UTF-8 if valid, else CP932. */
class EncodingSniffer {
  private head: Buffer | null = Buffer.alloc(0);
  private utf8 = new TextDecoder('utf-8', { fatal: true });
  private validUtf8 = true;
  private bom: CsvEncoding | null = null;

  constructor(private readonly given: CsvEncoding | null) {}

  write(chunk: Buffer) {
    if (this.head !== null) {
      this.head = Buffer.concat([this.head, chunk.subarray(0, 3)]);
      if (this.head.length >= 3 || chunk.length === 0) this.decideBom();
    }
    if (this.validUtf8 && this.given === null) {
      try {
        this.utf8.decode(chunk, { stream: true });
      } catch {
        this.validUtf8 = false;
      }
    }
  }

  private decideBom() {
    const h = this.head!;
    if (h[0] === 0xef && h[1] === 0xbb && h[2] === 0xbf) this.bom = 'utf-8';
    else if (h[0] === 0xff && h[1] === 0xfe) this.bom = 'utf-16le';
    else if (h[0] === 0xfe && h[1] === 0xff) this.bom = 'utf-16be';
    this.head = null;
  }

  end(): CsvEncoding {
    if (this.head !== null) this.decideBom();
    if (this.validUtf8 && this.given === null) {
      try {
        this.utf8.decode();
      } catch {
        this.validUtf8 = false;
      }
    }
    // A BOM wins over a Unicode charset (it is in the bytes), as the synchronous import reads it.
    if (this.bom && this.given !== 'cp932') return this.bom;
    return this.given ?? (this.validUtf8 ? 'utf-8' : 'cp932');
  }
}

const OnDuplicateQuery = Type.Object(
  {
    onDuplicate: Type.Optional(
      Type.Union([Type.Literal('update'), Type.Literal('skip')], {
        default: 'skip',
        description:
          'a row that is an existing lead (same external id when the file has the column, else same email, case aside): ' +
          'skip it (the default) or update the lead with the columns the file has',
      }),
    ),
  },
  { additionalProperties: false },
);

const EmptyQuery = Type.Object({}, { additionalProperties: false });

function importRoutes(kind: ImportKind): FastifyPluginAsync {
  const base = pathOf(kind);
  const tag = kind === 'leads' ? 'leads' : 'addresses';
  const what = kind === 'leads' ? 'leads' : 'address statuses';
  return routesPlugin(
    { name: `${kind}-import-routes`, dependencies: [repository('imports')] },
    async (fastify) => {
      const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
      const imports = app.imports;

      const loadJob = async (id: number) => {
        const job = await imports.get(id, kind);
        if (!job) throw notFound(`${kind === 'leads' ? 'lead' : 'address'} import ${id}`);
        return job;
      };

      // Only the upload takes text/csv, as a stream: it is written to the database chunk by chunk.
      await app.register(async (csv) => {
        const app = csv.withTypeProvider<TypeBoxTypeProvider>();
        app.addContentTypeParser('text/csv', (_req, payload, done) => done(null, payload));
        app.post(
          base,
          {
            schema: {
              tags: [tag],
              summary: `Import ${what} from a CSV of any size as a background job (202; then poll GET ${base}/{id})`,
              description:
                (kind === 'leads'
                  ? 'Columns as for POST /v1/leads/import (name, email, phone_<field>, line_user_id, external_id, sms_permission, dm_permission, attributes). ' +
                    "A row that repeats an earlier row's email or external id is rejected as a duplicate in the file."
                  : `Columns: ${ADDRESS_CSV_COLUMNS.join(', ')} (address and status required; status one of ${OPERATOR_STATUSES.join(', ')}; ` +
                    'channel email or sms, else email when the address has an @; reason is the note kept with it). ' +
                    'A repeated address is rejected as a duplicate in the file.') +
                ' Encoding: the charset of the content type (' +
                CSV_CHARSETS.join(', ') +
                '), else a BOM, else UTF-8 when the whole file is valid UTF-8, else CP932. A row with bytes that do not decode is rejected naming its column. ' +
                'Valid rows go in by batches (each batch whole or not at all); invalid rows are listed in rejected.csv with their reasons.',
              consumes: ['text/csv'],
              querystring: kind === 'leads' ? OnDuplicateQuery : EmptyQuery,
              body: Type.Unsafe<Readable>({ description: 'CSV bytes, header row first' }),
              response: { 202: ImportJob, 400: ErrorBody, 413: ErrorBody, 415: ErrorBody },
            },
          },
          async (req, reply) => upload(req, reply),
        );
      });

      async function upload(req: FastifyRequest, reply: FastifyReply) {
        const label = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(req.headers['content-type'] ?? '')?.[1];
        const given = label === undefined ? null : csvEncodingOf(label);
        if (label !== undefined && given === null)
          throw new ApiError(
            415,
            `charset "${label}" is not one the import reads (${CSV_CHARSETS.join(', ')})`,
          );
        const body = req.body as Readable | undefined;
        if (!body || typeof (body as Readable).on !== 'function')
          throw new ApiError(400, 'body: a CSV file is required (text/csv), and none was sent');
        const onDuplicate =
          (req.query as { onDuplicate?: 'update' | 'skip' }).onDuplicate ??
          (kind === 'leads' ? 'skip' : 'update');
        const job = await imports.create(kind, onDuplicate, actorOf(req));
        const sniffer = new EncodingSniffer(given);
        let bytes = 0;
        let seq = 0;
        let pending: Buffer[] = [];
        let pendingBytes = 0;
        const store = async () => {
          if (pendingBytes === 0) return;
          await imports.appendChunk(job.id, seq++, Buffer.concat(pending, pendingBytes));
          pending = [];
          pendingBytes = 0;
        };
        try {
          for await (const piece of body as AsyncIterable<Buffer>) {
            bytes += piece.length;
            if (bytes > IMPORT_MAX_BYTES) {
              await imports.fail(job.id, 'the file is larger than the import takes');
              body.destroy();
              throw new ApiError(413, `the file is larger than ${IMPORT_MAX_BYTES} bytes; split it`);
            }
            sniffer.write(piece);
            pending.push(piece);
            pendingBytes += piece.length;
            if (pendingBytes >= CHUNK_BYTES) await store();
          }
          await store();
        } catch (e) {
          if (!(e instanceof ApiError)) await imports.fail(job.id, 'the upload did not complete');
          throw e;
        }
        if (bytes === 0) {
          await imports.fail(job.id, 'the file was empty');
          throw new ApiError(400, 'body: a CSV file is required (text/csv), and none was sent');
        }
        const received = await imports.received(job.id, sniffer.end(), bytes);
        try {
          await startImport(app.deps.temporal, app.deps.config, job.id);
        } catch (e) {
          await imports.fail(job.id, 'the import could not be started');
          throw e;
        }
        return reply.status(202).header('location', `${base}/${job.id}`).send(jobJson(received));
      }

      app.get(
        `${base}/:id`,
        {
          schema: {
            tags: [tag],
            summary: `An import of ${what}: its status and progress (rows read, inserted, updated, skipped, rejected)`,
            params: IdParams,
            response: { 200: ImportJob, 400: ErrorBody, 404: ErrorBody },
          },
        },
        async (req) => jobJson(await loadJob(req.params.id)),
      );

      app.get(
        `${base}/:id/rejected.csv`,
        {
          schema: {
            tags: [tag],
            summary: `The rejected rows of an import of ${what}, as CSV (UTF-8 with BOM): row, field, reason, then the row's own cells`,
            params: IdParams,
            response: {
              200: {
                description: 'CSV bytes',
                content: { 'text/csv': { schema: Type.String({ description: 'CSV bytes' }) } },
              },
              400: ErrorBody,
              404: ErrorBody,
            },
          },
        },
        async (req, reply) => {
          const job = await loadJob(req.params.id);
          async function* bytes() {
            yield Buffer.from([0xef, 0xbb, 0xbf]);
            yield Buffer.from(csvLine(['row', 'field', 'reason', ...job.columns]));
            for await (const page of imports.rejected(job.id))
              yield Buffer.from(
                page.map((r) => csvLine([String(r.row), r.field, r.reason, ...r.cells])).join(''),
              );
          }
          return reply
            .type('text/csv; charset=utf-8')
            .header('content-disposition', `attachment; filename="${kind}-import-${job.id}-rejected.csv"`)
            .send(Readable.from(bytes()) as unknown as string);
        },
      );

      const cancel = async (id: number) => {
        const job = await loadJob(id);
        const ended = await imports.cancel(job.id);
        if (!ended)
          throw conflict(`import ${job.id} has already ended (${job.status}); there is nothing to cancel`);
        await cancelImportWorkflow(app.deps.temporal, job.id);
        return jobJson(ended);
      };
      const cancelSchema = {
        tags: [tag],
        params: IdParams,
        response: { 200: ImportJob, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      };

      app.delete(
        `${base}/:id`,
        {
          schema: {
            ...cancelSchema,
            summary: `Cancel an import of ${what}: it stops between two batches; rows already committed stay`,
          },
        },
        async (req) => cancel(req.params.id),
      );
      app.post(
        `${base}/:id/cancel`,
        { schema: { ...cancelSchema, summary: `Cancel an import of ${what} (as DELETE ${base}/{id})` } },
        async (req) => cancel(req.params.id),
      );
    },
  );
}

export const leadImportRoutes = importRoutes('leads');
export const addressImportRoutes = importRoutes('addresses');
