// The image's build check (a Dockerfile RUN step; CI runs it outside Docker
// through scripts/check-image-steps.sh). With production dependencies only
// (NODE_ENV=production: `npm ci` leaves the devDependencies out), the module
// graphs of the image's three commands load, and the workflow bundle builds
// (webpack with this platform's @swc/core binary) into .cache/workflow-bundle,
// where the worker finds it fresh at start (worker/workflow-bundle.ts). An
// incomplete install then fails the image build, not its first start.
import '../api/server';
import '../db/orm';
import '../worker/metrics-server';
import '../inbound/sms-receipts';
import '../channels/email/transport';
import '../channels/sms/transport';
import '../channels/sms/smpp-url';
import { statSync } from 'node:fs';
import { workflowBundle } from '../worker/create-workers';

workflowBundle().then(
  (bundle) => {
    console.log(`image check: modules load, workflow bundle built (${statSync(bundle.codePath).size} bytes)`);
    process.exit(0);
  },
  (err: unknown) => {
    console.error('image check: the workflow bundle could not be built', err);
    process.exit(1);
  },
);
