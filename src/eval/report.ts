// The human form of an eval report: one row per run, then the figures beside the published ones.
import type { EvalReport } from './campaign.js';
import type { Rate, Spread } from './metrics.js';

const pct = (r: Rate): string => (r.rate === null ? '-' : `${(r.rate * 100).toFixed(1)} % (${r.hits}/${r.of})`);
const ms = (s: Spread): string => (s.n === 0 ? '-' : `p50 ${s.p50} ms, p95 ${s.p95} ms (n=${s.n})`);

function table(rows: Record<string, string>[]): string {
  const cols = Object.keys(rows[0] ?? {});
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(width[i]!)).join(' │ ').trimEnd();
  return [line(cols), width.map((w) => '─'.repeat(w)).join('─┼─'), ...rows.map((r) => line(cols.map((c) => r[c] ?? '')))].join('\n');
}

export function formatReport(r: EvalReport): string {
  const rows = r.runs.map((x) => {
    const e = x.result.expect;
    const t = x.result.ticket;
    return {
      scenario: `${x.scenario}${r.repeat > 1 ? ` #${x.repetition}` : ''}${x.covered ? '' : ' (not covered)'}`,
      expected: e.status === 'none' ? 'no ticket' : `${e.service}: ${e.cause} → ${e.status}`,
      got: x.error ? 'not run' : t ? `${t.rootService ?? '?'}: ${t.cause ?? '?'} → ${t.status}` : 'no ticket',
      detect: x.result.detectMs === null ? '-' : `${x.result.detectMs} ms`,
      mitigate: x.result.recoverMs === null ? '-' : `${x.result.recoverMs} ms`,
      actions: x.result.action,
      result: x.result.ok ? 'ok' : `FAIL: ${x.error ?? x.result.why}`,
    };
  });
  const m = r.metrics;
  const figures = [
    `campaign ${r.campaign}: ${m.runs} runs (${m.faultRuns} faults, ${m.controlRuns} no-fault controls${m.errors ? `, ${m.errors} not run` : ''}), seed ${r.seed}, ${(r.durationMs / 1000).toFixed(1)} s, diagnosers: ${r.diagnosers.join(', ')}`,
    `  detection             ${pct(m.detection)}`,
    `  localization          ${pct(m.localization)}`,
    `  root cause            ${pct(m.rootCause)}   (covered causes: ${pct(m.rootCauseCovered)})   AIOpsLab best 45 %, ITBench 47 %`,
    `  mitigation            ${pct(m.mitigation)}   AIOpsLab best 55 %`,
    `  false positives       ${pct(m.falsePositives)} of no-fault runs`,
    `  time to detect        ${ms(m.timeToDetectMs)}`,
    `  time to mitigate      ${ms(m.timeToMitigateMs)}`,
    `  needless actions      ${m.needlessActions}`,
    `  LLM calls / tokens    ${m.llm.calls} / ${m.llm.tokens}`,
    `  runs as expected      ${pct(m.passed)}`,
  ];
  return `${table(rows)}\n\n${figures.join('\n')}\n`;
}
