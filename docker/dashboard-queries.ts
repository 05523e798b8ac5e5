// The PromQL of the provisioned Grafana dashboard, read from its JSON, so that the tests check the queries
// users see rather than a copy of them: docker.test.ts has promtool parse them, the end-to-end test runs them
// against a real Prometheus.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const DASHBOARD_PATH = fileURLToPath(new URL('./grafana/dashboards/prom-http.json', import.meta.url));

export interface DashboardTarget {
  datasource?: { type?: string; uid?: string };
  expr?: string;
  legendFormat?: string;
  refId?: string;
  /** Grafana also asks Prometheus for the exemplars of the query's series. */
  exemplar?: boolean;
  /** `heatmap`: the result is read as buckets (a native histogram here), not as series. */
  format?: string;
}

export interface DashboardPanel {
  id?: number;
  type?: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  gridPos?: { x?: number; y?: number; w?: number; h?: number };
  options?: Record<string, unknown>;
  targets?: DashboardTarget[];
}

export interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  panels?: DashboardPanel[];
  [field: string]: unknown;
}

/** One query of one panel. */
export interface PanelQuery {
  panelId: number;
  panel: string;
  panelType: string;
  refId: string;
  expr: string;
  /** The panel shows the exemplars of this query's series. */
  exemplar: boolean;
}

export function loadDashboard(path: string = DASHBOARD_PATH): Dashboard {
  return JSON.parse(readFileSync(path, 'utf8')) as Dashboard;
}

/** Every target of every panel, in dashboard order; panels or targets lacking an expression are left to docker.test.ts to reject. */
export function panelQueries(dashboard: Dashboard = loadDashboard()): PanelQuery[] {
  const queries: PanelQuery[] = [];
  for (const panel of dashboard.panels ?? []) {
    for (const target of panel.targets ?? []) {
      if (typeof target.expr !== 'string' || target.expr.trim() === '') continue;
      queries.push({
        panelId: panel.id ?? 0,
        panel: panel.title ?? '',
        panelType: panel.type ?? '',
        refId: target.refId ?? '',
        expr: target.expr,
        exemplar: target.exemplar === true,
      });
    }
  }
  return queries;
}
