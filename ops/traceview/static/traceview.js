// One page of the operator's view (ops/traceview/index.html): recent requests through the
// edge, and one request's trace as a waterfall, read from Jaeger's query API. Every value
// shown comes from spans, which clients can influence: it is set as text, never as HTML.
"use strict";

const EDGE = "afirgen-edge";
const COLORS = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2", "#4d7c0f", "#be185d"];
const main = document.getElementById("main");

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else if (key === "style") Object.assign(node.style, value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}

async function api(path) {
  const response = await fetch("/api" + path);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return (await response.json()).data || [];
}

function tag(span, key) {
  const found = (span.tags || []).find((t) => t.key === key);
  return found ? String(found.value) : "";
}

function pathOf(url) {
  // Query strings can carry personal data (search terms): only the path is shown.
  try { return new URL(url).pathname; } catch { return url.split("?")[0]; }
}

function ms(micros) { return (micros / 1000).toFixed(1); }

function show(...nodes) { main.replaceChildren(...nodes); }

function edgeSpan(trace) {
  const edge = trace.spans.filter((s) => trace.processes[s.processID].serviceName === EDGE);
  return edge.sort((a, b) => a.startTime - b.startTime)[0] || trace.spans[0];
}

async function showRecent() {
  const traces = await api(`/traces?service=${EDGE}&limit=50&lookback=1h`);
  traces.sort((a, b) => edgeSpan(b).startTime - edgeSpan(a).startTime);
  const rows = traces.map((trace) => {
    const span = edgeSpan(trace);
    const services = new Set(trace.spans.map((s) => trace.processes[s.processID].serviceName));
    const status = tag(span, "http.status_code");
    return el("tr", { class: "trace", "data-trace-id": trace.traceID },
      el("td", {}, new Date(span.startTime / 1000).toLocaleTimeString()),
      el("td", {}, tag(span, "http.method")),
      el("td", {}, el("a", { href: `/trace/${trace.traceID}` }, pathOf(tag(span, "http.url")) || span.operationName)),
      el("td", { class: status.startsWith("5") ? "error" : "" }, status),
      el("td", { class: "duration" }, ms(span.duration)),
      el("td", { class: "duration" }, trace.spans.length),
      el("td", {}, [...services].sort().join(", ")),
      el("td", {}, tag(span, "guid:x-request-id")));
  });
  show(el("h1", {}, "Requests through the edge, last hour"),
    el("p", { class: "summary" }, `${traces.length} traces, newest first`),
    el("table", {},
      el("tr", {}, ...["time", "method", "path", "status", "ms", "spans", "services", "request id"].map((h) => el("th", {}, h))),
      ...rows));
}

function ordered(trace) {
  // Depth-first from the roots, children by start time: the order of a waterfall.
  const ids = new Set(trace.spans.map((s) => s.spanID));
  const parentOf = (s) => {
    const ref = (s.references || []).find((r) => r.refType === "CHILD_OF" && ids.has(r.spanID));
    return ref ? ref.spanID : "";
  };
  const children = new Map();
  for (const span of trace.spans) {
    const parent = parentOf(span);
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(span);
  }
  const out = [];
  const walk = (parent, depth) => {
    for (const span of (children.get(parent) || []).sort((a, b) => a.startTime - b.startTime)) {
      out.push([span, depth]);
      walk(span.spanID, depth + 1);
    }
  };
  walk("", 0);
  return out;
}

async function showTrace(traceId) {
  const [trace] = await api(`/traces/${encodeURIComponent(traceId)}`);
  if (!trace) throw new Error(`no trace ${traceId}`);
  const start = Math.min(...trace.spans.map((s) => s.startTime));
  const end = Math.max(...trace.spans.map((s) => s.startTime + s.duration));
  const total = Math.max(end - start, 1);
  const services = [...new Set(trace.spans.map((s) => trace.processes[s.processID].serviceName))].sort();
  const color = (service) => COLORS[services.indexOf(service) % COLORS.length];
  const root = edgeSpan(trace);
  const rows = ordered(trace).map(([span, depth]) => {
    const service = trace.processes[span.processID].serviceName;
    const failed = tag(span, "error") === "true" || tag(span, "otel.status_code") === "ERROR";
    return el("tr", { class: "span", "data-service": service, "data-operation": span.operationName, "data-depth": depth },
      el("td", { style: { color: color(service) } }, service),
      el("td", { class: "operation" + (failed ? " error" : ""), style: { paddingLeft: `${0.5 + depth * 1.2}em` } },
        span.operationName),
      el("td", { class: "duration" }, ms(span.duration)),
      el("td", { class: "timeline" },
        el("div", { class: "bar", style: {
          left: `${((span.startTime - start) / total) * 100}%`,
          width: `${Math.max((span.duration / total) * 100, 0.2)}%`,
          background: color(service),
        } })));
  });
  document.title = `Trace ${trace.traceID}`;
  const request = `${tag(root, "http.method")} ${pathOf(tag(root, "http.url"))} ${tag(root, "http.status_code")}`.trim();
  show(el("h1", {}, `Trace ${trace.traceID}`),
    el("p", { class: "summary" },
      `${request || root.operationName} · request id ${tag(root, "guid:x-request-id") || "—"} · ` +
      `${trace.spans.length} spans across ${services.length} services (${services.join(", ")}) · ${ms(total)} ms`),
    el("table", { id: "spans" },
      el("tr", {}, ...["service", "operation", "ms", "timeline"].map((h) => el("th", {}, h))),
      ...rows));
}

async function find(query) {
  const wanted = query.trim();
  if (/^[0-9a-f]{32}$/i.test(wanted)) return wanted;
  const tags = encodeURIComponent(JSON.stringify({ "guid:x-request-id": wanted }));
  const [trace] = await api(`/traces?service=${EDGE}&tags=${tags}&limit=1&lookback=24h`);
  return trace ? trace.traceID : "";
}

async function route() {
  const query = new URLSearchParams(location.search).get("q");
  if (query) {
    const traceId = await find(query);
    if (!traceId) throw new Error(`no trace has request id or trace id ${query}`);
    history.replaceState(null, "", `/trace/${traceId}`);
    return showTrace(traceId);
  }
  const match = location.pathname.match(/^\/trace\/([0-9a-fA-F]+)$/);
  return match ? showTrace(match[1]) : showRecent();
}

route().catch((error) => show(el("p", { class: "error" }, error.message)));
