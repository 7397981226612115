// The run's lists of leads: 送信履歴一覧 (sent), 未送信履歴一覧 (unsent, with
// reasons), 開封者, クリック者, 未開封者, the clickers of one URL and the
// leads the run's search condition selects now; paged as the API pages them,
// each with its CSV export (a plain download link: the session cookie
// authenticates it).
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../../api';
import { formatNumber, formatTime } from '../../i18n';
import { href, navigate } from '../../router';
import { ErrorBanner, Loading, Pager, must, useLoad } from '../../ui';
import {
  RUN_LISTS,
  leadPath,
  listPath,
  listTitle,
  partLabel,
  type Labels,
  type Run,
  type RunListName,
} from './model';
import { tx, type Tx } from './texts';

interface Page {
  /** Which list, URL, variant and page this is (a page of another list is not shown under this one's title). */
  sig?: string;
  head: Tx[];
  rows: Array<{ key: string; cells: ComponentChildren[] }>;
  nextCursor: string | null;
  /** Offset paging (the unsent list): the total and where the next page starts. */
  total?: number;
  /** Counted on the first page only (the API counts a whole list only when asked). */
  counted?: number | null;
  leftLeads?: number | null;
}

const PAGE = 50;

function LeadLink(props: { id: number; name?: string }) {
  return (
    <a href={href(leadPath(props.id))}>{props.name ? `${props.name} (#${props.id})` : `#${props.id}`}</a>
  );
}

function listsFor(run: Run): RunListName[] {
  return RUN_LISTS.filter((l) => {
    if (l === 'segment') return run.target.segmentId !== null;
    if (l === 'openers' || l === 'unopened') return run.figures.opensMeasurable;
    return l !== 'url-clickers';
  });
}

export function RunLists(props: { run: Run; labels: Labels; query: URLSearchParams }) {
  const { run, labels, query } = props;
  const available = listsFor(run);
  const asked = query.get('list') as RunListName | null;
  const url = query.get('url') ?? '';
  const part = query.get('part') ?? '';
  const list: RunListName =
    asked === 'url-clickers' && url && part
      ? 'url-clickers'
      : asked && available.includes(asked)
        ? asked
        : 'sent';
  const takesHumanOnly =
    list === 'openers' || list === 'clickers' || list === 'unopened' || list === 'url-clickers';
  const humanOnly = takesHumanOnly && query.get('humanOnly') === 'true';
  // Pages of the list shown now: another list (URL, variant) starts from its first page.
  const sig = `${list}|${url}|${part}|${humanOnly}`;
  const [paging, setPaging] = useState<{ sig: string; stack: Array<string | undefined> }>({
    sig,
    stack: [undefined],
  });
  const stack = paging.sig === sig ? paging.stack : [undefined];
  const cursor = stack[stack.length - 1];
  const heading = useRef<HTMLHeadingElement>(null);
  // A link that opened a list moves focus to it.
  useEffect(() => {
    if (asked) heading.current?.focus();
  }, [list, url, part]);

  const loaded = useLoad<Page>(
    async () => ({
      ...(await loadPage(run, labels, list, { cursor, humanOnly, url, part })),
      sig,
    }),
    [run.id, list, url, part, cursor, humanOnly],
  );

  const exportHref = (() => {
    if (list === 'segment') return null;
    const q = new URLSearchParams();
    if (list === 'url-clickers') {
      q.set('url', url);
      q.set('part', part);
    }
    if (humanOnly) q.set('humanOnly', 'true');
    const s = q.toString();
    return `/v1/wizard-runs/${run.id}/lists/${list}/export${s ? `?${s}` : ''}`;
  })();

  const title =
    list === 'url-clickers'
      ? tx('listOf', { list: listTitle(list), url, part: partLabel(part) })
      : listTitle(list);
  // While the next page of this list loads, the current one stays (and the pager keeps focus).
  const page = loaded.data?.sig === sig ? loaded.data : null;
  return (
    <section class="run-section run-lists" aria-labelledby="run-list-title">
      <h2>{tx('listsTitle')}</h2>
      <nav class="list-tabs" aria-label={tx('listsTitle')}>
        <ul>
          {available.map((l) => (
            <li key={l}>
              <a href={href(listPath(run.channel, run.id, l))} aria-current={l === list ? 'true' : undefined}>
                {listTitle(l)}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <h3 id="run-list-title" ref={heading} tabIndex={-1}>
        {title}
      </h3>
      <div class="list-tools">
        {takesHumanOnly ? (
          <label class="inline">
            <input
              type="checkbox"
              name="humanOnly"
              checked={humanOnly}
              onChange={(e) =>
                navigate(
                  listPath(run.channel, run.id, list, {
                    ...(list === 'url-clickers' ? { url, part } : {}),
                    ...(e.currentTarget.checked ? { humanOnly: 'true' } : {}),
                  }),
                )
              }
            />
            {tx('humanOnlyList')}
          </label>
        ) : null}
        {exportHref ? (
          <a class="button-link" href={exportHref} download>
            {tx('csvLink', { list: title })}
          </a>
        ) : null}
        {list === 'url-clickers' ? (
          <button
            type="button"
            class="secondary"
            onClick={() => navigate(listPath(run.channel, run.id, 'clickers'))}
          >
            {listTitle('clickers')}
          </button>
        ) : null}
      </div>
      <ErrorBanner message={loaded.error} />
      <Loading loading={!page && !loaded.error} />
      {page ? (
        <>
          <p class="muted list-counts">
            {page.total !== undefined ? tx('total', { n: formatNumber(page.total) }) : null}
            {page.counted != null ? tx('counted', { n: formatNumber(page.counted) }) : null}
            {page.leftLeads ? ` ${tx('leftLeads', { n: formatNumber(page.leftLeads) })}` : null}
          </p>
          {page.rows.length === 0 ? (
            <p>{tx('empty')}</p>
          ) : (
            <div class="table-wrap">
              <table class="run-list" data-list={list}>
                <thead>
                  <tr>
                    {page.head.map((h) => (
                      <th scope="col" key={h}>
                        {tx(h)}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {page.rows.map((r) => (
                    <tr key={r.key}>
                      {r.cells.map((c, i) => (
                        <td key={i}>{c}</td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <Pager
            hasPrevious={stack.length > 1}
            nextCursor={page.nextCursor}
            onPrevious={() => setPaging({ sig, stack: stack.length > 1 ? stack.slice(0, -1) : stack })}
            onNext={() => page.nextCursor && setPaging({ sig, stack: [...stack, page.nextCursor] })}
          />
        </>
      ) : null}
    </section>
  );
}

async function loadPage(
  run: Run,
  labels: Labels,
  list: RunListName,
  o: { cursor?: string; humanOnly: boolean; url: string; part: string },
): Promise<Page> {
  const path = { id: run.id };
  switch (list) {
    case 'sent': {
      const a = must(
        await api.GET('/v1/wizard-runs/{id}/sends', {
          params: { path, query: { cursor: o.cursor, limit: PAGE } },
        }),
      );
      return {
        head: [
          'leadId',
          'address',
          'result',
          'detail',
          'code',
          'errorReason',
          'attempts',
          'sentAt',
          'deliveredAt',
        ],
        rows: a.items.map((s) => ({
          key: s.id,
          cells: [
            <>
              <LeadLink id={s.leadId} />
              {s.leadDeleted ? ` ${tx('leadDeleted')}` : ''}
            </>,
            s.address,
            labels.result(s.result),
            labels.detail(s.detail),
            s.code === null ? '' : <abbr title={labels.codeMeaning(s.code)}>{s.code}</abbr>,
            labels.errorReason(s.errorReason),
            formatNumber(s.attempts),
            formatTime(s.sentAt),
            formatTime(s.deliveredAt),
          ],
        })),
        nextCursor: a.nextCursor,
      };
    }
    case 'unsent': {
      const offset = o.cursor ? Number(o.cursor) : 0;
      const a = must(
        await api.GET('/v1/wizard-runs/{id}/unsent', { params: { path, query: { offset, limit: PAGE } } }),
      );
      return {
        head: ['leadId', 'address', 'reason'],
        rows: a.items.map((u) => ({
          key: String(u.leadId),
          cells: [<LeadLink id={u.leadId} />, u.address ?? '', labels.unsentReason(u.reason)],
        })),
        nextCursor: offset + a.items.length < a.total ? String(offset + a.items.length) : null,
        total: a.total,
      };
    }
    case 'openers':
    case 'clickers': {
      const query = { cursor: o.cursor, limit: PAGE, humanOnly: o.humanOnly };
      const a =
        list === 'openers'
          ? must(await api.GET('/v1/wizard-runs/{id}/openers', { params: { path, query } }))
          : must(await api.GET('/v1/wizard-runs/{id}/clickers', { params: { path, query } }));
      return responders(a);
    }
    case 'url-clickers': {
      const query = { url: o.url, part: o.part, cursor: o.cursor, limit: PAGE, humanOnly: o.humanOnly };
      return responders(
        must(await api.GET('/v1/wizard-runs/{id}/url-clickers', { params: { path, query } })),
      );
    }
    case 'unopened': {
      const query = { cursor: o.cursor, limit: PAGE, humanOnly: o.humanOnly };
      const a = must(await api.GET('/v1/wizard-runs/{id}/unopened', { params: { path, query } }));
      return {
        head: ['name', 'address', 'deliveredAt'],
        rows: a.items.map((u) => ({
          key: String(u.leadId),
          cells: [<LeadLink id={u.leadId} name={u.name} />, u.address, formatTime(u.deliveredAt)],
        })),
        nextCursor: a.nextCursor,
        counted: a.counted,
        leftLeads: a.leftLeads,
      };
    }
    case 'segment': {
      const a = must(
        await api.GET('/v1/wizard-runs/{id}/segment-leads', {
          params: { path, query: { cursor: o.cursor, limit: PAGE } },
        }),
      );
      return {
        head: ['name', 'email'],
        rows: a.items.map((l) => ({
          key: String(l.id),
          cells: [<LeadLink id={l.id} name={l.name} />, l.email ?? ''],
        })),
        nextCursor: a.nextCursor,
      };
    }
  }
}

function responders(a: {
  items: Array<{
    leadId: number;
    name: string;
    address: string;
    firstAt: string;
    lastAt: string;
    count: number;
    humanCount: number;
  }>;
  nextCursor: string | null;
  counted: number | null;
  leftLeads: number | null;
}): Page {
  return {
    head: ['name', 'address', 'firstAt', 'lastAt', 'count', 'humanCount'],
    rows: a.items.map((r) => ({
      key: String(r.leadId),
      cells: [
        <LeadLink id={r.leadId} name={r.name} />,
        r.address,
        formatTime(r.firstAt),
        formatTime(r.lastAt),
        formatNumber(r.count),
        formatNumber(r.humanCount),
      ],
    })),
    nextCursor: a.nextCursor,
    counted: a.counted,
    leftLeads: a.leftLeads,
  };
}
