/**
 * A cost run's report: a plain-text table for the terminal, a Markdown page, and an SVG chart of
 * stacked bars (one per scenario, a segment per AWS service) next to EKS's control-plane lines. Pure.
 */
import type { Usage } from '../../shared/metering/meter.js';
import type { MonthlyBill, Service } from './bill.js';

/** What the meter counted in one phase of a scenario. */
export interface Phase {
  name: string;
  seconds: number;
  usage: Usage;
}

export interface CostReport {
  scenario: string;
  description: string;
  nodes: number;
  windowSeconds: number;
  /** When it ran (ISO 8601). */
  date: string;
  usage: Usage;
  bill: MonthlyBill;
  /** Every measured phase, the window last (its usage is `usage`). */
  phases: Phase[];
}

const usd = (x: number) => `$${x < 10 ? x.toFixed(2) : x.toFixed(0)}`;
const quantity = (x: number) =>
  x >= 1e6 ? `${(x / 1e6).toFixed(1)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(x < 10 ? 2 : 0);

/** The month by service, each line, the total and EKS's, as text columns. */
export function costTable(report: CostReport): string {
  const { bill } = report;
  const rows = [
    ['service', 'item', 'per month', 'USD'],
    ...bill.lines.map((l) => [l.service, l.item, `${quantity(l.quantity)} ${l.unit}`, usd(l.usd)]),
    ['total', 'Lambernetes control plane', '', usd(bill.total)],
    ['EKS', 'standard support ($0.10/h)', '', usd(bill.eks.standard)],
    ['EKS', 'extended support ($0.60/h)', '', usd(bill.eks.extended)],
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r.map((cell, i) => (i === 3 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))).join('  '),
    )
    .join('\n');
}

export function costMarkdown(report: CostReport, chartFile: string): string {
  const { bill } = report;
  const lines = bill.lines
    .map((l) => `| ${l.service} | ${l.item} | ${quantity(l.quantity)} ${l.unit} | ${usd(l.usd)} |`)
    .join('\n');
  const dynamo = Object.entries(report.usage.dynamodb ?? {})
    .sort(
      ([, a], [, b]) => (b.writeUnits ?? 0) + (b.readUnits ?? 0) - (a.writeUnits ?? 0) - (a.readUnits ?? 0),
    )
    .slice(0, 12)
    .map(
      ([name, c]) =>
        `| ${name} | ${c.requests ?? 0} | ${(c.readUnits ?? 0).toFixed(1)} | ${(c.writeUnits ?? 0).toFixed(1)} | ${c.refused ?? 0} |`,
    )
    .join('\n');
  const functions = Object.entries(report.usage.lambda ?? {})
    .map(
      ([name, c]) =>
        `| ${name} | ${c.invocations ?? 0} | ${(((c.billedMs ?? 0) / Math.max(1, c.invocations ?? 0)) | 0).toString()} | ${(c.gbSeconds ?? 0).toFixed(1)} |`,
    )
    .join('\n');
  return `# Cost scenario: ${report.scenario}

${report.description}. Measured on a fresh local cluster (\`npm run cost -- --scenario ${report.scenario}\`) on
${report.date.slice(0, 10)}: a window of ${(report.windowSeconds / 60).toFixed(1)} minutes, scaled to a month of 730 hours.

| service | item | per month | USD |
|---|---|---|---|
${lines}
| **total** | Lambernetes control plane | | **${usd(bill.total)}** |
| EKS | standard support, $0.10/h | | ${usd(bill.eks.standard)} |
| EKS | extended support, $0.60/h | | ${usd(bill.eks.extended)} |

![monthly cost by service next to EKS](${chartFile})

## Lambda, in the window

| function | invocations | billed ms per invocation (mean) | GB-s |
|---|---|---|---|
${functions}

## DynamoDB, in the window (largest first)

| store operation . action | requests | read units | write units | refused |
|---|---|---|---|---|
${dynamo}

Durations are measured here, where the control plane, DynamoDB Local and the agents share two cores:
billed milliseconds are higher than on Lambda. Workers (EC2) cost the same with EKS and are left out.
`;
}

const serviceColors: Record<Service, string> = {
  Lambda: '#f58536',
  DynamoDB: '#3b48cc',
  SQS: '#d6242d',
  'CloudWatch Logs': '#759c3e',
  'Secrets Manager': '#dd344c',
  'Data transfer': '#8c8c8c',
};

const xmlText = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/** One bar of the chart. */
export interface ChartBar {
  label: string;
  bill: MonthlyBill;
}

/**
 * Stacked bars of the monthly bill by service, one per bar, and EKS's standard and extended support as
 * horizontal lines (the scale reaches 1.15× the highest of the bars and the standard line; the extended
 * line is drawn when it fits).
 */
export function costChart(reports: readonly ChartBar[]): string {
  const width = 160 + 120 * reports.length + 200;
  const height = 360;
  const top = 30;
  const bottom = 300;
  const left = 70;
  const eks = reports[0]?.bill.eks ?? { standard: 73, extended: 438 };
  const highest = Math.max(eks.standard, ...reports.map((r) => r.bill.total));
  const max = highest * 1.15;
  const y = (value: number) => bottom - ((bottom - top) * value) / max;
  const parts: string[] = [];
  // Axis with four ticks.
  for (let i = 0; i <= 4; i++) {
    const value = (max * i) / 4;
    parts.push(
      `<line x1="${left}" x2="${left + 120 * reports.length + 40}" y1="${y(value).toFixed(1)}" y2="${y(value).toFixed(1)}" stroke="#e5e5e5"/>`,
      `<text x="${left - 8}" y="${(y(value) + 4).toFixed(1)}" text-anchor="end">${xmlText(usd(value))}</text>`,
    );
  }
  reports.forEach((report, i) => {
    const x = left + 30 + 120 * i;
    let base = 0;
    for (const [service, value] of Object.entries(report.bill.byService) as [Service, number][]) {
      if (value <= 0) continue;
      parts.push(
        `<rect x="${x}" y="${y(base + value).toFixed(1)}" width="70" height="${(y(base) - y(base + value)).toFixed(1)}" fill="${serviceColors[service]}"><title>${xmlText(`${service}: ${usd(value)}`)}</title></rect>`,
      );
      base += value;
    }
    parts.push(
      `<text x="${x + 35}" y="${(y(base) - 6).toFixed(1)}" text-anchor="middle">${xmlText(usd(report.bill.total))}</text>`,
      `<text x="${x + 35}" y="${bottom + 18}" text-anchor="middle">${xmlText(report.label)}</text>`,
    );
  });
  const lineEnd = left + 120 * reports.length + 40;
  for (const [label, value] of [
    ['EKS standard', eks.standard],
    ['EKS extended', eks.extended],
  ] as const) {
    if (value > max) continue;
    parts.push(
      `<line x1="${left}" x2="${lineEnd}" y1="${y(value).toFixed(1)}" y2="${y(value).toFixed(1)}" stroke="#232f3e" stroke-dasharray="6 4"/>`,
      `<text x="${lineEnd + 6}" y="${(y(value) + 4).toFixed(1)}">${xmlText(`${label} ${usd(value)}`)}</text>`,
    );
  }
  const legend = (Object.keys(serviceColors) as Service[]).map(
    (service, i) =>
      `<rect x="${lineEnd + 6}" y="${top + 60 + 18 * i}" width="12" height="12" fill="${serviceColors[service]}"/><text x="${lineEnd + 24}" y="${top + 71 + 18 * i}">${xmlText(service)}</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">
<title>Lambernetes control plane, monthly cost by AWS service, next to EKS</title>
<text x="${left}" y="18" font-size="14">Control plane per month (USD)</text>
${[...parts, ...legend].join('\n')}
<line x1="${left}" x2="${left}" y1="${top}" y2="${bottom}" stroke="#000"/>
<line x1="${left}" x2="${lineEnd}" y1="${bottom}" y2="${bottom}" stroke="#000"/>
</svg>
`;
}
