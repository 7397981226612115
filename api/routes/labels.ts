// Every machine-readable value the API answers with, and its label in the
// reader's language (Accept-Language: ja or en; DEFAULT_LANGUAGE otherwise),
// from domain/i18n: run statuses, send results, result details, unsent
// reasons, error reasons and types, machine-click reasons, and each delivery
// code's meaning and remedy (対処方法) from the manual's code list.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  BOT_REASON_TEXT,
  CHANNEL_TEXT,
  DELIVERY_CODE_TEXT,
  ERROR_REASON_TEXT,
  ERROR_TYPE_TEXT,
  RESULT_DETAIL_TEXT,
  RUN_STATUS_TEXT,
  SEND_RESULT_TEXT,
  UNSENT_REASON_TEXT,
  type Text,
} from '../../domain/i18n';
import { requestLabels } from '../i18n';
import { routesPlugin } from '../plugins/named-plugin';
import { ErrorBody } from '../schemas';

const Labelled = Type.Array(Type.Object({ code: Type.String(), label: Type.String() }));

export const labelRoutes: FastifyPluginAsync = routesPlugin({ name: 'label-routes' }, async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/v1/labels',
    {
      schema: {
        tags: ['labels'],
        summary:
          'Labels of every status, result, result detail, reason and delivery code (with its remedy), in Japanese or English by Accept-Language',
        response: {
          200: Type.Object({
            language: Type.String({ description: 'ja or en' }),
            timeZone: Type.String({
              description:
                "the account's time zone (ACCOUNT_TIME_ZONE), in which notices, usage days and the console show times",
            }),
            runStatuses: Labelled,
            sendResults: Labelled,
            resultDetails: Type.Array(
              Type.Object({
                detail: Type.String({ description: 'as stored in `detail`' }),
                label: Type.String(),
              }),
            ),
            unsentReasons: Labelled,
            errorReasons: Labelled,
            errorTypes: Labelled,
            machineClickReasons: Labelled,
            channels: Labelled,
            deliveryCodes: Type.Array(
              Type.Object({
                code: Type.Integer(),
                meaning: Type.String(),
                remedy: Type.String({ description: 'what to do (対処方法)' }),
              }),
            ),
          }),
          400: ErrorBody,
        },
      },
    },
    async (req, reply) => {
      const t = requestLabels(req, reply);
      const lang = t.language;
      const table = (x: Readonly<Record<string, Text>>) =>
        Object.entries(x).map(([code, text]) => ({ code, label: text[lang] }));
      return {
        language: lang,
        timeZone: app.deps.config.accountTimeZone,
        runStatuses: table(RUN_STATUS_TEXT),
        sendResults: table(SEND_RESULT_TEXT),
        resultDetails: [...RESULT_DETAIL_TEXT.entries()].map(([detail, text]) => ({
          detail,
          label: text[lang],
        })),
        unsentReasons: table(UNSENT_REASON_TEXT),
        errorReasons: table(ERROR_REASON_TEXT),
        errorTypes: table(ERROR_TYPE_TEXT),
        machineClickReasons: table(BOT_REASON_TEXT),
        channels: table(CHANNEL_TEXT),
        deliveryCodes: [...DELIVERY_CODE_TEXT.entries()].map(([code, text]) => ({
          code,
          meaning: text.meaning[lang],
          remedy: text.remedy[lang],
        })),
      };
    },
  );
});
