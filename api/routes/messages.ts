// Single (automatic / transactional) sends: one lead, one template, now.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { WorkflowFailedError } from '@temporalio/client';
import { getLead } from '../../db/lead-queries';
import { getTemplate } from '../../db/template-queries';
import { startSingleSend } from '../../lifecycle/single-send';
import { DEFAULT_PHONE_FIELD } from '../../db/sms-queries';
import { ApiError, badRequest } from '../errors';
import { ErrorBody } from '../schemas';
import { inTransaction } from '../../db/pool';
import { IdempotencyHeaders, idempotentRoute, recordCreated } from '../idempotency';
import { SendDetail, sendJson } from './sends';

const WAIT_FOR_RESULT_MS = 20_000;

export const messageRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { pool, temporal, config } = app.deps;

  app.post(
    '/v1/messages',
    {
      schema: {
        tags: ['sends'],
        summary:
          'Send one email or SMS (to the mobile phone field) to one lead now, whatever its validity flag says (201 with the result; 202 while still pending)',
        headers: IdempotencyHeaders,
        body: Type.Object(
          {
            leadId: Type.Integer({ minimum: 1, maximum: 2147483647 }),
            templateId: Type.Integer({ minimum: 1, maximum: 2147483647 }),
          },
          { additionalProperties: false },
        ),
        response: {
          201: SendDetail,
          202: SendDetail,
          400: ErrorBody,
          409: ErrorBody,
          422: ErrorBody,
          503: ErrorBody,
        },
      },
      ...idempotentRoute(pool, 'POST /v1/messages'),
    },
    async (req, reply) => {
      const { leadId, templateId } = req.body;
      const lead = await getLead(pool, leadId);
      if (!lead || lead.deleted_at) throw badRequest('body.leadId', `lead ${leadId} does not exist`);
      const template = await getTemplate(pool, templateId);
      if (!template || template.deleted_at)
        throw badRequest('body.templateId', `template ${templateId} does not exist`);
      if (template.channel !== 'email' && template.channel !== 'sms') {
        throw badRequest(
          'body.templateId',
          `template ${templateId} is a ${template.channel} template; single sends are email or SMS so far`,
        );
      }
      // An SMS goes to the lead's mobile phone field; a missing one is the pre-error "not a mobile phone number".
      const address =
        template.channel === 'sms' ? (lead.phones[DEFAULT_PHONE_FIELD] ?? '') : (lead.email ?? '');
      const sendId = await inTransaction(pool, async (client) => {
        const ins = await client.query<{ id: string }>(
          `INSERT INTO send (run_id, channel, lead_id, address, template_id, template_title, token, result, attempts)
           VALUES (NULL, $5, $1, $2, $3, $4, replace(gen_random_uuid()::text, '-', ''), 'pending', 0) RETURNING id`,
          [lead.id, address, template.id, template.title, template.channel],
        );
        await recordCreated(req, client, `send ${ins.rows[0]!.id}`);
        return ins.rows[0]!.id;
      });
      let handle;
      try {
        handle = await startSingleSend(temporal, config, { sendId, channel: template.channel });
      } catch (err) {
        req.log.error({ err, sendId }, 'could not start the single send');
        await pool.query('DELETE FROM send WHERE id = $1 AND attempts = 0', [sendId]);
        throw new ApiError(503, 'the workflow service is not reachable; nothing was sent, retry shortly');
      }
      const finished = await Promise.race([
        handle.result().then(
          () => true,
          (err) => {
            if (!(err instanceof WorkflowFailedError)) throw err;
            return true;
          },
        ),
        new Promise<false>((r) => setTimeout(() => r(false), WAIT_FOR_RESULT_MS).unref()),
      ]);
      const row = (await pool.query('SELECT * FROM send WHERE id = $1', [sendId])).rows[0];
      return reply.status(finished ? 201 : 202).send(sendJson(row));
    },
  );
};
