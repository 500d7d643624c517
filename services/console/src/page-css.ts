/** The page's styles (served as /assets/console.css). */
export const PAGE_CSS = `
:root { --bg: #0f1419; --panel: #161d26; --line: #2a3542; --text: #d6dde6; --dim: #8595a8; --ok: #3fb950;
  --warn: #d29922; --bad: #f85149; --accent: #58a6ff; --queue: #1f6feb; --topic: #8957e5; --exchange: #2ea043; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; background: var(--bg); color: var(--text); font: 13px/1.4 system-ui, sans-serif; }
header { display: flex; gap: 16px; align-items: center; padding: 8px 16px; border-bottom: 1px solid var(--line); }
h1 { font-size: 16px; margin: 0; }
h2 { font-size: 14px; margin: 0 0 8px; }
h2 small, .dim { color: var(--dim); font-weight: normal; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 12px; padding: 12px; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px; min-width: 0; }
section.wide { grid-column: 1 / -1; }
#login { max-width: 720px; margin: 40px auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 2px 6px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--dim); font-weight: normal; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.minor td { color: var(--dim); }
.chip { display: inline-block; padding: 1px 8px; border-radius: 10px; margin-right: 4px; border: 1px solid var(--line); }
.chip.up { border-color: var(--ok); color: var(--ok); }
.chip.stale { border-color: var(--bad); color: var(--bad); }
.stale-marker { color: var(--bad); font-weight: bold; }
.error, .bad { color: var(--bad); }
.warn { color: var(--warn); }
.ok { color: var(--ok); }
svg text { fill: var(--text); font-size: 11px; }
svg .node rect { fill: var(--panel); stroke: var(--line); }
svg .node.service rect { stroke: var(--accent); }
svg .node.exchange rect { stroke: var(--exchange); }
svg .node.queue rect { stroke: var(--queue); }
svg .node.topic rect { stroke: var(--topic); }
svg .node.down rect { stroke: var(--bad); stroke-dasharray: 4 3; }
svg .badge { fill: var(--warn); }
svg .edge path { fill: none; stroke: var(--line); stroke-width: 1.5; }
svg .edge.active path { stroke: var(--accent); }
svg .edge text { fill: var(--dim); font-size: 10px; }
svg .edge.active text { fill: var(--accent); }
svg.spark polyline { fill: none; stroke: var(--accent); stroke-width: 1.2; }
svg.spark.second polyline { stroke: var(--warn); }
svg.chart polyline { fill: none; stroke-width: 1.2; }
svg.chart line.marker { stroke: var(--warn); stroke-dasharray: 2 2; }
svg line.fault { stroke: var(--bad); stroke-width: 1.5; }
svg line.fault.off { stroke-dasharray: 3 2; opacity: 0.7; }
#offset-form { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; margin: 8px 0 6px; }
#rebuild-progress { width: 240px; vertical-align: middle; }
#rebuild table, #offset-preview table { width: auto; min-width: 480px; margin-bottom: 6px; }
button:disabled { opacity: 0.45; cursor: not-allowed; }
.comparison tr.differs td { color: var(--warn); }
#offsets-view h3 { font-size: 13px; margin: 12px 0 4px; }
#fault-form, #poison-form { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; margin-bottom: 6px; }
select { background: var(--bg); color: var(--text); border: 1px solid var(--line); border-radius: 4px; padding: 3px 4px; }
tr.fault-on td.what { color: var(--bad); }
.story ul { list-style: none; padding-left: 18px; margin: 0; border-left: 1px dotted var(--line); }
.story li { margin: 2px 0; }
.story .type { color: var(--accent); }
.story .hop { color: var(--dim); }
.story .dead { color: var(--bad); }
.stuck td { color: var(--bad); }
#lab-form { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; margin-bottom: 6px; }
svg.lab-chart polyline { fill: none; stroke-width: 1.6; }
svg.lab-chart line.grid { stroke: var(--line); }
svg.lab-chart .bound line { stroke: var(--bad); stroke-dasharray: 2 3; }
svg.lab-chart text { fill: var(--dim); }
table.lab-figures, table.lab-summary { width: auto; margin-top: 6px; }
button:disabled { opacity: 0.5; cursor: default; }
input, button { background: var(--bg); color: var(--text); border: 1px solid var(--line); border-radius: 4px; padding: 3px 8px; }
button { cursor: pointer; }
button:disabled { opacity: 0.45; cursor: not-allowed; }
a { color: var(--accent); cursor: pointer; }
#dead-letters-view td.reason { white-space: normal; max-width: 520px; }
#dead-letters-view tr.chosen td { background: #1c2633; }
#dead-letters-view .bulk, #dl-bulk-preview, #dead-letters-view .actions { margin: 6px 0; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
#dl-run .run { border: 1px solid var(--line); border-radius: 4px; padding: 6px; margin-bottom: 8px; }
#dl-run progress { width: 100%; }
.alarm { border: 2px solid var(--bad); color: var(--bad); background: #2a1215; font-weight: bold; padding: 6px 8px; border-radius: 4px; margin-top: 6px; font-size: 14px; }
.letter .columns { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.letter table.kv th { width: 160px; }
.letter table.kv td { white-space: normal; word-break: break-all; }
textarea { width: 100%; background: var(--bg); color: var(--text); border: 1px solid var(--line); border-radius: 4px; font: 12px/1.4 ui-monospace, monospace; }
.diff pre { max-width: none; color: var(--text); }
.diff .added { color: var(--ok); background: #12261a; }
.diff .removed { color: var(--bad); background: #2a1215; }
.plan pre, .letter pre { max-width: none; }
pre { white-space: pre-wrap; word-break: break-all; color: var(--dim); margin: 0; max-width: 520px; }
`;
