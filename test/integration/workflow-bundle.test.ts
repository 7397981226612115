// The worker loads its workflow code from a prebuilt file (worker/workflow-bundle.ts):
// built in a child process when missing, and never used once an input webpack
// read has changed or a path it looked for has appeared (then built again).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshWorkflowBundle, inputsKey, workflowBundlePath } from '../../worker/workflow-bundle';

interface Manifest {
  key: string;
  code: string;
  files: string[];
  missing: string[];
}

describe('the prebuilt workflow bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'workflow-bundle-'));
  const manifestPath = join(dir, 'manifest.json');
  const readManifest = () => JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is built when missing, holds every workflow, and lists the workflow sources it was built from', async () => {
    expect(freshWorkflowBundle(dir)).toBeNull();
    const { codePath } = await workflowBundlePath(dir);
    const code = readFileSync(codePath, 'utf8');
    for (const name of ['wizardRunWorkflow', 'singleSendWorkflow', 'leadImportWorkflow'])
      expect(code).toContain(name);
    expect(freshWorkflowBundle(dir)).toEqual({ codePath });
    const files = readManifest().files;
    expect(files).toContain(join(__dirname, '..', '..', 'workflows', 'wizard-run.ts'));
    expect(files.some((f) => f.includes('@temporalio/workflow'))).toBe(true);
  });

  it('is stale once an input changes or a missing path appears, and is then built again', async () => {
    // A stand-in input (the real sources are not ours to edit here), added to the manifest as webpack would list it.
    const input = join(dir, 'input.ts');
    const absent = join(dir, 'absent.ts');
    writeFileSync(input, 'export const a = 1;\n');
    const manifest = readManifest();
    const files = [...manifest.files, input];
    const missing = [...manifest.missing, absent];
    writeFileSync(
      manifestPath,
      JSON.stringify({ ...manifest, files, missing, key: inputsKey(files, missing) }),
    );
    const { codePath } = freshWorkflowBundle(dir)!;

    writeFileSync(input, 'export const a = 2;\n');
    expect(freshWorkflowBundle(dir)).toBeNull();
    writeFileSync(input, 'export const a = 1;\n');
    expect(freshWorkflowBundle(dir)).toEqual({ codePath });
    writeFileSync(absent, 'export const b = 1;\n');
    expect(freshWorkflowBundle(dir)).toBeNull();

    // Built again from the real inputs: fresh, and the stand-ins are no longer among them.
    await workflowBundlePath(dir);
    expect(freshWorkflowBundle(dir)).not.toBeNull();
    expect(readManifest().files).not.toContain(input);
  });
});
