// Hash routes (#/runs/email/12): the API serves one page at `/`, and each
// screen is a pattern with named parts. Screens register in routes.tsx.
import { useEffect, useState } from 'preact/hooks';

export interface Match {
  params: Record<string, string>;
  query: URLSearchParams;
}

export function currentPath(): { path: string; query: URLSearchParams } {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, search = ''] = raw.split('?', 2) as [string, string?];
  return { path: path || '/', query: new URLSearchParams(search) };
}

/** Matches `/runs/:channel/:id` against a path; null when it does not fit. */
export function matchPattern(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/').filter(Boolean);
  const got = path.split('/').filter(Boolean);
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith(':')) params[w.slice(1)] = decodeURIComponent(g);
    else if (w !== g) return null;
  }
  return params;
}

export function navigate(path: string): void {
  location.hash = path;
}

/** A link target for a console path (hash routing). */
export function href(path: string): string {
  return `#${path}`;
}

export function useLocation(): { path: string; query: URLSearchParams } {
  const [loc, setLoc] = useState(currentPath);
  useEffect(() => {
    const update = () => setLoc(currentPath());
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return loc;
}
