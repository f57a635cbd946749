// driftrec dashboard: talks only to the app's own JSON API (same origin), with the API key from localStorage.
"use strict";

const KEY_STORE = "driftrec.apiKey";
const USERS_STORE = "driftrec.recentUsers";
const $ = (id) => document.getElementById(id);

function apiKey() {
  return localStorage.getItem(KEY_STORE) || "";
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  const key = apiKey();
  if (key) headers["X-API-Key"] = key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let payload = null;
  const text = await response.text();
  try { payload = text ? JSON.parse(text) : null; } catch (_) { payload = text; }
  if (!response.ok) {
    const detail = payload && payload.detail !== undefined ? payload.detail : payload;
    const message = typeof detail === "string" ? detail : JSON.stringify(detail);
    throw new Error(`${method} ${path.split("?")[0]} → ${response.status}: ${message}`);
  }
  return payload;
}

function setStatus(element, text, kind) {
  element.textContent = text;
  element.className = kind || "muted";
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === "class") node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}

// ---- normalisers: the only place that knows the API's field names -------------------------------------

function firstArray(obj, names) {
  if (Array.isArray(obj)) return obj;
  for (const name of names) if (obj && Array.isArray(obj[name])) return obj[name];
  return [];
}

function itemLabel(item) {
  if (item === null || item === undefined) return "";
  if (typeof item !== "object") return String(item);
  const id = item.item_id ?? item.id ?? "";
  const title = item.title ?? item.name ?? "";
  const label = title ? `${title} (${id})` : String(id);
  return item.weight !== undefined ? `${label} ${Math.round(100 * Number(item.weight))}%` : label;
}

function normaliseRecommendations(payload) {
  return firstArray(payload, ["recommendations", "items", "results"]).map((rec, i) => ({
    itemId: String(rec.item_id ?? rec.id),
    title: rec.title ?? rec.name ?? "",
    category: rec.category ?? "",
    score: Number(rec.score ?? NaN),
    rank: rec.rank ?? i + 1,
    explanation: rec.explanation ?? rec.because ?? null,
  }));
}

function explanationParts(explanation) {
  if (!explanation) return { items: [], categories: [], text: "" };
  if (typeof explanation === "string") return { items: [], categories: [], text: explanation };
  const items = firstArray(explanation, ["items", "history_items", "because_items"]).map(itemLabel);
  const categories = firstArray(explanation, ["categories", "history_categories"]).map((c) => {
    if (typeof c !== "object") return String(c);
    const name = c.category ?? c.name ?? JSON.stringify(c);
    return c.weight !== undefined ? `${name} ${Math.round(100 * Number(c.weight))}%` : name;
  });
  return { items, categories, text: explanation.text ?? explanation.summary ?? "" };
}

function shareMap(value) {
  // {cat: share}, [{category, share}] or [[category, share]] -> {cat: share}
  if (!value) return {};
  if (Array.isArray(value)) {
    const out = {};
    for (const entry of value) {
      if (Array.isArray(entry)) out[entry[0]] = Number(entry[1]);
      else out[entry.category ?? entry.name] = Number(entry.share ?? entry.weight ?? 0);
    }
    return out;
  }
  return value;
}

function pivotTimeline(rows) {
  // Long rows {window_start, category, weight} (or one row per window with a shares map) -> one entry per
  // window with each category's share of that window's weight, oldest first.
  const windows = new Map();
  for (const row of rows) {
    const t = row.window_start ?? row.ts ?? row.start ?? row.time ?? row.window;
    const entry = windows.get(t) ?? {};
    if (row.category !== undefined) entry[row.category] = (entry[row.category] ?? 0) + Number(row.weight ?? row.share ?? 0);
    else Object.assign(entry, shareMap(row.shares ?? row.profile ?? row.categories));
    windows.set(t, entry);
  }
  return [...windows.entries()]
    .sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1))
    .map(([t, weights]) => {
      const total = Object.values(weights).reduce((s, v) => s + v, 0) || 1;
      const shares = {};
      for (const [c, v] of Object.entries(weights)) shares[c] = v / total;
      return { t, shares };
    });
}

function normaliseInterests(payload) {
  const timeline = pivotTimeline(firstArray(payload, ["timeline", "windows", "history"]));
  const migrations = firstArray(payload, ["migrations", "changes"]).map((m) => ({
    t: m.ts ?? m.time ?? m.at,
    from: m.from_category ?? m.from ?? "",
    to: m.to_category ?? m.to ?? "",
    score: m.score ?? m.strength ?? null,
  }));
  const current = shareMap(payload && (payload.current ?? payload.profile ?? payload.interests));
  return { timeline, migrations, current };
}

// ---- rendering ----------------------------------------------------------------------------------------

function renderRecommendations(recs) {
  const body = $("recs").querySelector("tbody");
  body.replaceChildren();
  if (!recs.length) {
    body.append(el("tr", {}, el("td", { colspan: "4", class: "muted" }, "no recommendations")));
    return;
  }
  for (const rec of recs) {
    const why = explanationParts(rec.explanation);
    const cell = el("td", { class: "why" });
    if (why.text) cell.append(el("div", {}, why.text));
    if (why.items.length) cell.append(el("div", {}, "because of ", why.items.slice(0, 3).join(", ")));
    if (why.categories.length) {
      const tags = el("div", {});
      for (const c of why.categories.slice(0, 3)) tags.append(el("span", { class: "tag" }, c));
      cell.append(tags);
    }
    const label = rec.title ? `${rec.title} (${rec.itemId})` : rec.itemId;
    const item = el("td", {}, label);
    if (rec.category) item.append(el("div", { class: "why" }, rec.category));
    const row = el("tr", { class: "rec", "data-item": rec.itemId, title: "click to use in the event form" },
      el("td", {}, rec.rank), item, el("td", { class: "score" }, Number.isFinite(rec.score) ? rec.score.toFixed(3) : ""),
      cell);
    row.addEventListener("click", () => { $("event-item").value = rec.itemId; });
    body.append(row);
  }
}

function dayLabel(t) {
  return String(t ?? "").slice(0, 16).replace("T00:00", "").replace("T", " ");
}

function renderInterests(userId, interests) {
  $("interest-user").textContent = `— ${userId}`;
  const { timeline, migrations, current } = interests;
  const categories = new Set(Object.keys(current));
  for (const w of timeline) for (const c of Object.keys(w.shares)) categories.add(c);
  // One bar per active window on a categorical axis: a shopper's windows can be years apart, and a date
  // axis would squeeze the history into a sliver.
  const labels = timeline.map((w) => dayLabel(w.t));
  const traces = [...categories].map((c) => ({
    x: labels, y: timeline.map((w) => w.shares[c] ?? 0), name: c, type: "bar",
  }));
  const at = (t) => {
    const label = dayLabel(t);
    return labels.find((l) => l >= label) ?? labels[labels.length - 1];
  };
  const shapes = migrations.map((m) => ({
    type: "line", xref: "x", yref: "paper", x0: at(m.t), x1: at(m.t), y0: 0, y1: 1,
    line: { color: "#b3261e", dash: "dot", width: 2 },
  }));
  const annotations = migrations.map((m, i) => ({
    x: at(m.t), y: 1.0, yanchor: "bottom", yshift: 2 + 12 * (i % 2), xref: "x", yref: "paper", text: `→ ${m.to}`, showarrow: false,
    font: { size: 10, color: "#b3261e" },
  }));
  const layout = {
    barmode: "stack", bargap: 0.05, margin: { l: 40, r: 10, t: 30, b: 60 }, showlegend: true,
    legend: { orientation: "h", y: -0.3 }, xaxis: { type: "category", tickangle: -30, nticks: 12 },
    yaxis: { title: "share", range: [0, 1] }, shapes, annotations, hovermode: "x unified",
  };
  if (!timeline.length) {
    const names = Object.keys(current);
    traces.length = 0;
    traces.push({ x: names, y: names.map((c) => current[c]), type: "bar", name: "current" });
    Object.assign(layout, { yaxis: { title: "share" }, xaxis: {}, shapes: [], annotations: [] });
  }
  if (window.Plotly) window.Plotly.react($("timeline"), traces, layout, { displayModeBar: false, responsive: true });
  const top = Object.entries(current).filter(([, v]) => v >= 0.005).sort((a, b) => b[1] - a[1]).slice(0, 4);
  $("profile").textContent = top.length
    ? `Now: ${top.map(([c, v]) => `${c} ${Math.round(100 * v)}%`).join(" · ")}`
    : "";
  const list = $("migrations");
  list.replaceChildren();
  if (!migrations.length) list.append(el("li", { class: "muted" }, "no migrations detected"));
  for (const m of migrations) list.append(el("li", {}, `${dayLabel(m.t)}: ${m.from} → ${m.to}`));
}

// ---- actions ------------------------------------------------------------------------------------------

function rememberUser(userId) {
  const recent = JSON.parse(localStorage.getItem(USERS_STORE) || "[]").filter((u) => u !== userId);
  recent.unshift(userId);
  localStorage.setItem(USERS_STORE, JSON.stringify(recent.slice(0, 20)));
  fillUserList(recent);
}

function fillUserList(users) {
  const list = $("user-list");
  const known = new Set([...list.options].map((o) => o.value));
  for (const u of users) if (!known.has(u)) list.append(el("option", { value: u }));
}

function loadRecentUsers() {
  fillUserList(JSON.parse(localStorage.getItem(USERS_STORE) || "[]"));
}

let currentUser = null;

async function refresh() {
  const userId = currentUser;
  if (!userId) return;
  const k = Math.max(1, Math.min(100, Number($("k").value) || 10));
  const excludeSeen = $("exclude-seen").checked;
  const params = new URLSearchParams({ user_id: userId, k: String(k), exclude_seen: String(excludeSeen), explain: "true" });
  const status = $("status");
  setStatus(status, `Loading ${userId}…`);
  const [recs, interests] = await Promise.allSettled([
    api("GET", `/recommend?${params}`),
    api("GET", `/users/${encodeURIComponent(userId)}/interests`),
  ]);
  const errors = [];
  if (recs.status === "fulfilled") renderRecommendations(normaliseRecommendations(recs.value));
  else { renderRecommendations([]); errors.push(recs.reason.message); }
  if (interests.status === "fulfilled") renderInterests(userId, normaliseInterests(interests.value));
  else errors.push(interests.reason.message);
  if (errors.length) setStatus(status, errors.join(" · "), "error");
  else setStatus(status, `Showing ${userId} (updated ${new Date().toLocaleTimeString()})`, "ok");
  document.body.dataset.loadedUser = userId;
  document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes || 0) + 1);
}

async function sendEvent(event) {
  event.preventDefault();
  const status = $("event-status");
  if (!currentUser) { setStatus(status, "Pick a user first.", "error"); return; }
  const itemId = $("event-item").value.trim();
  const kind = $("event-type").value;
  const repeat = Math.max(1, Math.min(50, Number($("event-repeat").value) || 1));
  const events = Array.from({ length: repeat }, () => ({ user_id: currentUser, item_id: itemId, event: kind }));
  const button = $("send-event");
  button.disabled = true;
  try {
    const reply = await api("POST", "/events", { events });
    const accepted = reply && (reply.accepted ?? reply.stored ?? reply.count);
    setStatus(status, `Sent ${repeat} × ${kind} of ${itemId}${accepted !== undefined ? ` (accepted: ${accepted})` : ""}`, "ok");
    $("event-log").prepend(el("li", {}, `${new Date().toLocaleTimeString()} ${currentUser} ${kind} ${itemId} ×${repeat}`));
    await refresh();
  } catch (err) {
    setStatus(status, err.message, "error");
  } finally {
    button.disabled = false;
  }
}

function init() {
  $("api-key").value = apiKey();
  $("key-form").addEventListener("submit", (e) => {
    e.preventDefault();
    localStorage.setItem(KEY_STORE, $("api-key").value.trim());
    setStatus($("key-status"), "saved", "ok");
    refresh();
  });
  $("user-form").addEventListener("submit", (e) => {
    e.preventDefault();
    currentUser = $("user-id").value.trim();
    if (!currentUser) return;
    rememberUser(currentUser);
    refresh();
  });
  $("event-form").addEventListener("submit", sendEvent);
  loadRecentUsers();
  const fromUrl = new URLSearchParams(location.search).get("user");
  if (fromUrl) { $("user-id").value = fromUrl; currentUser = fromUrl; refresh(); }
  document.body.dataset.ready = "1";
}

document.addEventListener("DOMContentLoaded", init);
