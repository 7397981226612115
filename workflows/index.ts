// The workflow bundle's entry: only deterministic workflow code is reachable from here.
export { wizardRunWorkflow } from './wizard-run';
export { singleSendWorkflow } from './single-send';
export { mailboxCleanupWorkflow } from './mailbox-cleanup';
export { runConsistencySweepWorkflow } from './run-sweep';
export { leadImportWorkflow } from './lead-import';
export { sendingDomainVerificationWorkflow } from './sending-domain-verification';
