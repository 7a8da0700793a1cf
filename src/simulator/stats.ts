import { isTableName } from '../servicenow/tables';

export interface RequestLogEntry {
  readonly at: string;
  readonly method: string;
  readonly url: string;
  /** The status answered, or `dropped` when the connection was destroyed without an answer. */
  readonly status: number | 'dropped';
  readonly user: string | undefined;
}

export interface RequestCounts {
  readonly total: number;
  /** `GET incident`, `POST order_now`, `POST oauth_token`, ... */
  readonly byMethodAndTarget: Readonly<Record<string, number>>;
  readonly byStatus: Readonly<Record<string, number>>;
}

/** Recent requests kept for the admin API; older ones are forgotten so memory stays bounded. */
const RECENT_REQUESTS = 1000;

/** What the instance answered: counters plus a bounded log of the latest requests. */
export class RequestStats {
  private total = 0;
  private byTarget = new Map<string, number>();
  private byStatus = new Map<string, number>();
  private recent: RequestLogEntry[] = [];

  record(entry: RequestLogEntry): void {
    this.total++;
    increment(this.byTarget, `${entry.method} ${targetOf(entry.url)}`);
    increment(this.byStatus, String(entry.status));
    this.recent.push(entry);
    if (this.recent.length > RECENT_REQUESTS) this.recent.shift();
  }

  counts(): RequestCounts {
    return {
      total: this.total,
      byMethodAndTarget: Object.fromEntries(this.byTarget),
      byStatus: Object.fromEntries(this.byStatus),
    };
  }

  /** The latest `limit` requests, oldest first. */
  latest(limit: number): readonly RequestLogEntry[] {
    return this.recent.slice(-limit);
  }

  reset(): void {
    this.total = 0;
    this.byTarget = new Map();
    this.byStatus = new Map();
    this.recent = [];
  }
}

function increment(counters: Map<string, number>, key: string): void {
  counters.set(key, (counters.get(key) ?? 0) + 1);
}

/** Groups requests by what they address; unknown names share one key so a scan of bad URLs cannot grow memory. */
function targetOf(url: string): string {
  const path = url.split('?', 1)[0] ?? '';
  const table = /^\/api\/now\/table\/([^/]+)/.exec(path)?.[1];
  if (table !== undefined) return isTableName(table) ? table : 'invalid table';
  if (path.startsWith('/api/sn_sc/servicecatalog/')) return 'order_now';
  if (path === '/oauth_token.do') return 'oauth_token';
  return 'other';
}
