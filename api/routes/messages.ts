// Single (automatic / transactional) sends: one lead, one template, now.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { WorkflowFailedError } from '@temporalio/client';
import { startSingleSend } from '../../lifecycle/single-send';
import { CHANNEL_MODULES } from '../../channels/registry';
import { ApiError, badRequest } from '../errors';
import { ErrorBody } from '../schemas';
import { repository } from '../plugins/repositories';
import { routesPlugin } from '../plugins/named-plugin';
import { IdempotencyHeaders, idempotentRoute, recordCreated } from '../idempotency';
import { SendDetail, sendJson } from './sends';
import { requestLabels } from '../i18n';

const WAIT_FOR_RESULT_MS = 20_000;

/** The channels with single sends, for the answer to a template of another ('email or SMS'). */
const SINGLE_SEND_CHANNELS = Object.values(CHANNEL_MODULES)
  .filter((m) => m.singleSendAddress)
  .map((m) => m.label)
  .join(' or ');

export const messageRoutes: FastifyPluginAsync = routesPlugin(
  {
    name: 'message-routes',
    dependencies: ['database', repository('leads'), repository('templates'), repository('sends')],
  },
  async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const { temporal, config } = app.deps;
    const { leads, templates, sends } = app;

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
        ...idempotentRoute(app.db.pool, 'POST /v1/messages'),
      },
      async (req, reply) => {
        const { leadId, templateId } = req.body;
        const lead = await leads.get(leadId);
        if (!lead || lead.deleted_at) throw badRequest('body.leadId', `lead ${leadId} does not exist`);
        const template = await templates.get(templateId);
        if (!template || template.deleted_at)
          throw badRequest('body.templateId', `template ${templateId} does not exist`);
        const addressOf = CHANNEL_MODULES[template.channel].singleSendAddress;
        if (!addressOf) {
          throw badRequest(
            'body.templateId',
            `template ${templateId} is a ${template.channel} template; single sends are ${SINGLE_SEND_CHANNELS} so far`,
          );
        }
        const address = addressOf(lead);
        const sendId = await sends.insertSingle(
          {
            leadId: lead.id,
            address,
            templateId: template.id,
            templateTitle: template.title,
            channel: template.channel,
          },
          (client, id) => recordCreated(req, client, `send ${id}`),
        );
        let handle;
        try {
          handle = await startSingleSend(temporal, config, { sendId, channel: template.channel });
        } catch (err) {
          req.log.error({ err, sendId }, 'could not start the single send');
          await sends.withdrawUnattempted(sendId);
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
        const row = await sends.get(sendId);
        return reply.status(finished ? 201 : 202).send(sendJson(row, requestLabels(req, reply)));
      },
    );
  },
);
