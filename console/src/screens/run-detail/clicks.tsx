// URL別クリック率: per body part and per URL, the manual's stars, the click
// rate and the clickers (their count links to the leads who clicked that URL),
// with and without machine clicks; the clickers per URL as bars (chart.js).
import { useEffect, useRef } from 'preact/hooks';
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { formatNumber } from '../../i18n';
import { href } from '../../router';
import {
  formatPercent,
  listPath,
  partLabel,
  starText,
  type Run,
  type RunFigures,
  type UrlFigure,
} from './model';
import { tx } from './texts';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);

type LinkFigures = UrlFigure['all'];

function Stars(props: { n: number }) {
  return (
    <span class="stars" role="img" aria-label={tx('starsOf', { n: props.n })} data-stars={props.n}>
      {starText(props.n)}
    </span>
  );
}

/** ★★★★★ 33.33% (2人), the count a link to the leads behind it. */
function Rating(props: { f: LinkFigures; link: string | null; human: boolean }) {
  const people = tx('people', { n: formatNumber(props.f.clickers) });
  return (
    <>
      <td class="rating" data-variant={props.human ? 'human' : 'all'}>
        <Stars n={props.f.stars} />
      </td>
      <td class="num" data-variant={props.human ? 'human' : 'all'} data-cell="rate">
        {formatPercent(props.f.clickRate)}
      </td>
      <td class="num" data-variant={props.human ? 'human' : 'all'} data-cell="clickers">
        {props.link && props.f.clickers > 0 ? <a href={props.link}>{people}</a> : people}
      </td>
      <td class="num" data-variant={props.human ? 'human' : 'all'} data-cell="clicks">
        {formatNumber(props.f.clicks)}
      </td>
    </>
  );
}

function HeaderRow(props: { first: string; second?: string }) {
  const group = (label: string) => (
    <th scope="colgroup" colSpan={4} class="group">
      {label}
    </th>
  );
  const cols = (suffix: string) => (
    <>
      <th scope="col">
        {tx('rating')}
        <span class="visually-hidden"> ({suffix})</span>
      </th>
      <th scope="col" class="num">
        {tx('clickRate')}
        <span class="visually-hidden"> ({suffix})</span>
      </th>
      <th scope="col" class="num">
        {tx('clickers')}
        <span class="visually-hidden"> ({suffix})</span>
      </th>
      <th scope="col" class="num">
        {tx('clicks')}
        <span class="visually-hidden"> ({suffix})</span>
      </th>
    </>
  );
  return (
    <thead>
      <tr>
        <td colSpan={props.second ? 2 : 1} />
        {group(tx('withMachines'))}
        {group(tx('humanOnly'))}
      </tr>
      <tr>
        <th scope="col">{props.first}</th>
        {props.second ? <th scope="col">{props.second}</th> : null}
        {cols(tx('withMachines'))}
        {cols(tx('humanOnly'))}
      </tr>
    </thead>
  );
}

function ClickBars(props: { urls: UrlFigure[] }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current || props.urls.length === 0) return;
    const label = (u: UrlFigure) => {
      const short = u.url.length > 48 ? `${u.url.slice(0, 47)}…` : u.url;
      return `${short} (${partLabel(u.part)})`;
    };
    const chart = new Chart(canvas.current, {
      type: 'bar',
      data: {
        labels: props.urls.map(label),
        datasets: [
          {
            label: tx('withMachines'),
            data: props.urls.map((u) => u.all.clickers),
            backgroundColor: '#1d4ed8',
          },
          {
            label: tx('humanOnly'),
            data: props.urls.map((u) => u.humanOnly.clickers),
            backgroundColor: '#15803d',
          },
        ],
      },
      options: {
        indexAxis: 'y',
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: 'bottom' } },
      },
    });
    return () => chart.destroy();
  }, [props.urls]);
  if (props.urls.length === 0) return null;
  return (
    <div class="click-bars" style={{ height: `${Math.max(8, props.urls.length * 3.2 + 4)}rem` }}>
      <canvas ref={canvas} role="img" aria-label={tx('chartLabel')} />
    </div>
  );
}

export function UrlClicks(props: { run: Run; figures: RunFigures }) {
  const { run, figures } = props;
  const urlLink = (u: UrlFigure, humanOnly: boolean) =>
    href(
      listPath(run.channel, run.id, 'url-clickers', {
        url: u.url,
        part: u.part,
        ...(humanOnly ? { humanOnly: 'true' } : {}),
      }),
    );
  return (
    <section class="run-section" aria-labelledby="run-urls-title">
      <h2 id="run-urls-title">{tx('urlTitle')}</h2>
      {figures.parts.length > 0 ? (
        <div class="table-wrap">
          <table class="run-parts">
            <caption>{tx('partsTitle')}</caption>
            <HeaderRow first={tx('part')} />
            <tbody>
              {figures.parts.map((p) => (
                <tr key={p.part} data-part={p.part}>
                  <th scope="row">{partLabel(p.part)}</th>
                  <Rating f={p.all} link={null} human={false} />
                  <Rating f={p.humanOnly} link={null} human={true} />
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {figures.urls.length === 0 ? (
        <p>{tx('noUrls')}</p>
      ) : (
        <>
          <div class="table-wrap">
            <table class="run-urls">
              <caption>{tx('urlTitle')}</caption>
              <HeaderRow first={tx('part')} second={tx('url')} />
              <tbody>
                {figures.urls.map((u) => (
                  <tr key={`${u.part} ${u.url}`} data-url={u.url} data-part={u.part}>
                    <td>{partLabel(u.part)}</td>
                    <th scope="row" class="url-cell">
                      {u.url}
                    </th>
                    <Rating f={u.all} link={urlLink(u, false)} human={false} />
                    <Rating f={u.humanOnly} link={urlLink(u, true)} human={true} />
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {figures.moreUrls ? <p class="muted">{tx('moreUrls')}</p> : null}
          <ClickBars urls={figures.urls} />
        </>
      )}
    </section>
  );
}
