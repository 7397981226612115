// One named plugin per repository (db/repositories/*), each declaring that it
// needs the 'database' plugin; route plugins declare the repositories they
// use, and Fastify refuses to start when one is missing. The SQL is in db/.
import type { FastifyPluginAsync } from 'fastify';
import { bounceRuleRepository, type BounceRuleRepository } from '../../db/repositories/bounce-rules';
import { domainRuleRepository, type DomainRuleRepository } from '../../db/repositories/domain-rules';
import { historyRepository, type HistoryRepository } from '../../db/repositories/history';
import { inboundReportRepository, type InboundReportRepository } from '../../db/repositories/inbound-reports';
import { leadRepository, type LeadRepository } from '../../db/repositories/leads';
import { importRepository, type ImportRepository } from '../../db/repositories/imports';
import { addressRepository, type AddressRepository } from '../../db/repositories/addresses';
import {
  officialAccountRepository,
  type OfficialAccountRepository,
} from '../../db/repositories/official-accounts';
import { segmentRepository, type SegmentRepository } from '../../db/repositories/segments';
import { sendingDomainRepository, type SendingDomainRepository } from '../../db/repositories/sending-domains';
import { sendRepository, type SendRepository } from '../../db/repositories/sends';
import { templateRepository, type TemplateRepository } from '../../db/repositories/templates';
import { trackingRepository, type TrackingRepository } from '../../db/repositories/tracking';
import { wizardRunRepository, type WizardRunRepository } from '../../db/repositories/wizard-runs';
import type { DatabasePools } from './database';
import { sharedPlugin } from './named-plugin';

/** Every repository the app decorates itself with, by decorator name. */
type Repositories = {
  leads: LeadRepository;
  templates: TemplateRepository;
  segments: SegmentRepository;
  wizardRuns: WizardRunRepository;
  sends: SendRepository;
  history: HistoryRepository;
  tracking: TrackingRepository;
  bounceRules: BounceRuleRepository;
  domainRules: DomainRuleRepository;
  officialAccounts: OfficialAccountRepository;
  inboundReports: InboundReportRepository;
  imports: ImportRepository;
  addressStatuses: AddressRepository;
  sendingDomains: SendingDomainRepository;
};

declare module 'fastify' {
  // Each repository is a decorator of the app, typed from the list above.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the members are Repositories'
  interface FastifyInstance extends Repositories {}
}

/** The plugin name a route plugin lists in its dependencies, e.g. 'leads-repository'. */
export const repository = (key: keyof Repositories) => `${key}-repository`;

function repositoryPlugin<K extends keyof Repositories>(
  key: K,
  build: (db: DatabasePools) => Repositories[K],
): FastifyPluginAsync {
  return sharedPlugin({ name: repository(key), dependencies: ['database'] }, async (app) => {
    // The declaration above types each decorator; the generic key defeats decorate's own inference.
    app.decorate(key, build(app.db) as never);
  });
}

export const repositoryPlugins: FastifyPluginAsync[] = [
  repositoryPlugin('leads', (db) => leadRepository(db.pool)),
  repositoryPlugin('templates', (db) => templateRepository(db.pool)),
  repositoryPlugin('segments', (db) => segmentRepository(db.pool)),
  repositoryPlugin('wizardRuns', (db) => wizardRunRepository(db.pool)),
  repositoryPlugin('sends', (db) => sendRepository(db.pool)),
  repositoryPlugin('history', (db) => historyRepository(db.pool)),
  repositoryPlugin('tracking', (db) => trackingRepository(db.pool, db.trackingRecorder)),
  repositoryPlugin('bounceRules', (db) => bounceRuleRepository(db.pool)),
  repositoryPlugin('domainRules', (db) => domainRuleRepository(db.pool)),
  repositoryPlugin('officialAccounts', (db) => officialAccountRepository(db.pool)),
  repositoryPlugin('inboundReports', (db) => inboundReportRepository(db.pool)),
  repositoryPlugin('imports', (db) => importRepository(db.pool)),
  repositoryPlugin('addressStatuses', (db) => addressRepository(db.pool)),
  repositoryPlugin('sendingDomains', (db) => sendingDomainRepository(db.pool)),
];
