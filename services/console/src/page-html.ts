/**
 * The control room's one page. Static: no data in it (the data comes over the stream once the viewer has given an
 * operator token), no inline script or style (the page's CSP forbids both), nothing from another origin.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Control room · async messaging</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/console.css">
<script type="module" src="/assets/app.js"></script>
</head>
<body>
<header>
  <h1>Control room</h1>
  <div id="sources" aria-label="sources"></div>
  <label class="toggle"><input type="checkbox" id="show-patterns"> label edges with their pattern</label>
  <button id="logout" hidden>sign out</button>
</header>
<section id="login" hidden>
  <h2>Operator token</h2>
  <p>The control room shows everything the system carries, so it needs an operator's token. Make one with
  <code>./stack token operator</code> and paste it here (or open the URL <code>./stack demo</code> prints).</p>
  <form id="login-form"><input id="token" name="token" autocomplete="off" size="60" placeholder="eyJ..."><button>open</button></form>
  <p id="login-error" class="error"></p>
</section>
<main id="main" hidden>
  <section id="topology-view" class="wide"><h2>Topology <small>messages per second on each edge; depth, lag and backlog on the nodes</small></h2><div id="topology"></div></section>
  <section id="queues-view"><h2>Queues <small>RabbitMQ: ready and unacknowledged, rates, time to drain</small></h2><div id="queues"></div></section>
  <section id="kafka-view"><h2>Kafka <small>lag per partition over time, and in seconds at the group's rate</small></h2><div id="kafka"></div></section>
  <section id="sagas-view"><h2>Sagas <small>by state and step; stuck ones are past their deadline</small></h2><div id="sagas"></div></section>
  <section id="outbox-view"><h2>Outbox and inbox <small>per service</small></h2><div id="outbox"></div></section>
  <section id="faults-view" class="wide"><h2>Faults <small>break a service on purpose, for a while, and watch the patterns react; each one is marked on the charts</small></h2>
    <form id="fault-form">
      <label>service <select id="fault-service"></select></label>
      <label>fault <select id="fault-kind">
        <option value="slow-consumer">slow-consumer: each message waits before its handler</option>
        <option value="fail-consumer">fail-consumer: a fraction of the messages fail (retries, then dead letters)</option>
        <option value="at-most-once">at-most-once: acknowledge before the work</option>
        <option value="pause-relay">pause-relay: the outbox relay publishes nothing</option>
        <option value="stop-consumers">stop-consumers: its consumers stop (messages wait in the queue, the group's lag grows)</option>
      </select></label>
      <label id="fault-source-field">on <select id="fault-source"></select></label>
      <label id="fault-delay-field">delay <input id="fault-delay" type="number" min="1" max="60000" value="500" size="6"> ms</label>
      <label id="fault-fraction-field">fraction <input id="fault-fraction" type="number" min="0.01" max="1" step="0.01" value="0.5" size="4"></label>
      <label>for <input id="fault-duration" type="number" min="1" max="600" value="120" size="4"> s</label>
      <button id="fault-on">switch on</button>
    </form>
    <form id="poison-form">
      <label>send a poison message to <select id="poison-destination"></select></label>
      <label>that is <select id="poison-variant">
        <option value="unparseable">unparseable: not JSON</option>
        <option value="invalid-payload">invalid-payload: its data fails its type's schema</option>
        <option value="unknown-type">unknown-type: a type no consumer knows</option>
      </select></label>
      <button id="poison-send">send once</button>
    </form>
    <p id="fault-note" class="warn"></p><p id="fault-message"></p><div id="faults"></div>
    <h3>Operator actions <small class="dim">audit's trail: what was done, by whom, recorded before it took effect</small></h3>
    <div id="operator-actions"></div></section>
  <section id="dead-letters-view" class="wide"><h2>Dead letters <small>every dead letter queue and Kafka's dead letter topic, grouped by failure; inspect, edit, and replay one, a selection or a group at a rate</small></h2>
    <div id="dl-run"></div><div id="dl-groups"></div><div id="dl-group"></div><div id="dl-bulk-preview"></div><div id="dl-letter"></div></section>
  <section id="lab-view" class="wide"><h2>Burst lab <small>a burst of orders into a world of its own (own vhost, databases and services): predict, run, compare</small></h2>
    <form id="lab-form">
      <label>requests <input id="lab-requests" type="number" min="1" max="10000" value="400" size="6"></label>
      <label>in <input id="lab-duration" type="number" min="100" max="30000" step="100" value="1000" size="6"> ms</label>
      <label>workers at <input id="lab-capacity" type="number" min="10" max="5000" value="100" size="5"> /s</label>
      <label>queue bound <input id="lab-bound" type="number" min="0" max="100000" value="0" size="6"> (0: none)</label>
      <label>prefetch <input id="lab-prefetch" type="number" min="1" max="500" value="50" size="4"></label>
      <button id="lab-start">run the burst</button>
    </form>
    <p id="lab-note" class="dim"></p><p id="lab-message"></p><div id="lab-live"></div>
    <h3>Saved runs <small class="dim">pick two to compare</small> <button id="lab-compare-button" disabled>compare</button></h3>
    <div id="lab-runs"></div><div id="lab-compare"></div></section>
  <section id="offsets-view" class="wide"><h2>Offsets and replay <small>move a stopped Kafka group's positions, previewed per partition; rebuild the analytics read model from offset 0</small></h2>
    <div id="offset-groups"></div>
    <form id="offset-form">
      <label>group <select id="offset-group"></select></label>
      <label>to <select id="offset-to">
        <option value="earliest">earliest: the start of the log</option>
        <option value="latest">latest: the end of the log</option>
        <option value="time">the first record at or after a time</option>
      </select></label>
      <input id="offset-time" type="datetime-local" step="1" hidden>
      <button id="offset-preview-button">preview</button>
      <button id="offset-reset" type="button" disabled>reset</button>
    </form>
    <p id="offset-note" class="warn"></p><p id="offset-message"></p><div id="offset-preview"></div>
    <h3>Rebuild the analytics read model</h3>
    <p class="dim">Replays order-events from offset 0 into a shadow table beside the live consumer, then compares it with the live table and swaps it in under a lock: the same code as <code>./stack replay-analytics</code>.</p>
    <p><button id="rebuild-start" type="button">rebuild from offset 0</button>
      <progress id="rebuild-progress" max="100" value="0"></progress> <span id="rebuild-percent"></span>
      <span id="rebuild-phase" class="dim"></span></p>
    <p id="rebuild-message"></p><div id="rebuild"></div></section>
  <section id="story-view" class="wide"><h2>One message's story <small>every message an order or a correlation id caused, across RabbitMQ and Kafka</small></h2>
    <form id="story-form"><input id="story-id" size="40" placeholder="order id or correlation id"><button>show</button></form><div id="story"></div></section>
  <section id="account-view"><h2>Event-sourced account <small>the balance as of each version</small></h2>
    <form id="account-form"><input id="account-id" size="40" placeholder="user id"><button>show</button></form><div id="account"></div></section>
</main>
</body>
</html>
`;
