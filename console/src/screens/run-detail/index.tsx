// Screen 2 of the console (issue 20): a wizard run's detail, #/runs/:channel/:id.
// Every item the manual lists for the run's channel, the figures with and
// without machine clicks, URL別クリック率 with stars and click bars, the lists
// of leads with CSV export, the retry waves, the pre-flight check (email) and
// the progress while the run is sent (refreshed every few seconds).
import { useEffect } from 'preact/hooks';
import { api } from '../../api';
import { currentLanguage, t } from '../../i18n';
import { loadLabels } from '../../labels';
import { href } from '../../router';
import type { ScreenProps } from '../../routes';
import { ErrorBanner, Loading, Page, must, useLoad } from '../../ui';
import { UrlClicks } from './clicks';
import { RunFields, RunFiguresTable, RunPreflight, RunProgress, RunWaves } from './fields';
import { RunLists } from './lists';
import { makeLabels, type Preflight, type Run, type RunFigures } from './model';
import { tx } from './texts';

const LIVE_STATUSES = new Set(['reserved', 'preparing', 'running']);
const REFRESH_MS = 5000;

export function RunDetailScreen(props: ScreenProps) {
  const id = Number(props.match.params.id);
  const channel = props.match.params.channel ?? 'email';
  const valid = Number.isInteger(id) && id > 0 && id <= 2147483647;

  const labels = useLoad(loadLabels, [currentLanguage()]);
  const loaded = useLoad<{ run: Run; figures: RunFigures }>(async () => {
    if (!valid) throw new Error(`${tx('id')}: ${props.match.params.id}`);
    const path = { id };
    const [run, figures] = await Promise.all([
      api.GET('/v1/wizard-runs/{id}', { params: { path } }).then(must),
      api.GET('/v1/wizard-runs/{id}/figures', { params: { path } }).then(must),
    ]);
    return { run, figures };
  }, [id]);
  const run = loaded.data?.run ?? null;
  // While it is reserved, prepared or sent, the page follows it.
  useLoadRefresh(loaded.reload, run !== null && LIVE_STATUSES.has(run.status));

  const preflight = useLoad<Preflight | null>(async () => {
    if (!run || run.channel !== 'email') return null;
    return must(await api.GET('/v1/wizard-runs/{id}/preflight', { params: { path: { id } } }));
  }, [id, run?.channel, run?.status]);

  const l = makeLabels(labels.data);
  const title = run ? `${tx('title')} #${run.id}` : tx('title');
  const backPath = `/runs/${encodeURIComponent(run?.channel ?? channel)}`;
  return (
    <Page
      title={title}
      actions={
        <a class="button-link secondary" href={href(backPath)}>
          {tx('backToHistory')}
        </a>
      }
    >
      <ErrorBanner message={loaded.error ?? labels.error} />
      <Loading loading={loaded.loading && !run} />
      {run && loaded.data ? (
        <div class="run-detail" data-run-id={run.id} data-status={run.status}>
          {run.channel !== channel ? (
            <p class="notice">{tx('otherChannel', { channel: l.channel(run.channel) })}</p>
          ) : null}
          <RunProgress run={run} />
          <section class="run-section" aria-labelledby="run-fields-title">
            <h2 id="run-fields-title">{tx('fieldsTitle')}</h2>
            <RunFields run={run} labels={l} />
          </section>
          <RunFiguresTable run={run} figures={loaded.data.figures} />
          <UrlClicks run={run} figures={loaded.data.figures} />
          <RunLists run={run} labels={l} query={props.match.query} />
          <RunWaves run={run} labels={l} />
          {preflight.data ? <RunPreflight answer={preflight.data} labels={l} /> : null}
          <ErrorBanner message={preflight.error} />
        </div>
      ) : null}
      {!valid ? <p>{t('notFound')}</p> : null}
    </Page>
  );
}

/** Reloads every few seconds while `on` (a run that is still moving). */
function useLoadRefresh(reload: () => void, on: boolean) {
  useEffect(() => {
    if (!on) return;
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [on, reload]);
}
