// Time for headless Chromium to reach `load` on a report.html: the median over three
// fresh tabs of performance.timing.loadEventEnd - navigationStart, in milliseconds,
// printed alone on stdout (each load on stderr). Exit status 1 on any failure.
//
//   node --experimental-websocket bench/html_load.mjs REPORT.html [LOADS]
//
// Chromium is driven over the DevTools protocol on loopback only (127.0.0.1, a port
// the kernel picks); the page is opened from the file system, so nothing leaves the
// machine. The report itself runs no script; the timing is read by the bench's own
// Runtime.evaluate.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const [file, loadsArg] = process.argv.slice(2);
if (!file) {
  console.error("usage: html_load.mjs REPORT.html [LOADS]");
  process.exit(2);
}
const page = resolve(file);
try {
  if (!statSync(page).isFile()) throw new Error("not a regular file");
} catch (e) {
  console.error(`html_load: ${page}: ${e.message}`);
  process.exit(1);
}
const loads = Number(loadsArg ?? 3);
const LOAD_TIMEOUT_MS = 120_000;

const profile = mkdtempSync(join(tmpdir(), "kenshin-html-load-"));
const chromium = spawn(
  process.env.CHROMIUM ?? "chromium",
  [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-extensions", "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0", `--user-data-dir=${profile}`, "about:blank",
  ],
  { stdio: ["ignore", "ignore", "pipe"] },
);

function finish(code) {
  chromium.kill("SIGKILL");
  try { rmSync(profile, { recursive: true, force: true }); } catch {}
  process.exit(code);
}
function fail(message) {
  console.error(`html_load: ${message}`);
  finish(1);
}
chromium.on("error", (e) => fail(`chromium cannot start: ${e.message}`));
const watchdog = setTimeout(() => fail("timed out"), LOAD_TIMEOUT_MS * (loads + 1));

const url = await new Promise((ok) => {
  let seen = "";
  chromium.stderr.on("data", (d) => {
    seen += d.toString();
    const m = seen.match(/ws:\/\/127\.0\.0\.1:\d+\/\S+/);
    if (m) ok(m[0]);
  });
});

const ws = new WebSocket(url);
await new Promise((ok, no) => { ws.onopen = ok; ws.onerror = () => no(new Error("DevTools socket")); })
  .catch((e) => fail(e.message));
let nextId = 0;
const pending = new Map();
const listeners = [];
ws.onmessage = (m) => {
  const v = JSON.parse(m.data);
  if (v.id !== undefined && pending.has(v.id)) {
    const { ok, no, method } = pending.get(v.id);
    pending.delete(v.id);
    if (v.error) no(new Error(`${method}: ${JSON.stringify(v.error)}`)); else ok(v.result);
  } else {
    for (const l of listeners) l(v);
  }
};
function call(method, params = {}, sessionId) {
  const id = ++nextId;
  ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
  return new Promise((ok, no) => pending.set(id, { ok, no, method }));
}

async function loadOnce() {
  const { targetId } = await call("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await call("Target.attachToTarget", { targetId, flatten: true });
  await call("Page.enable", {}, sessionId);
  const loaded = new Promise((ok) => {
    listeners.push((v) => { if (v.sessionId === sessionId && v.method === "Page.loadEventFired") ok(); });
  });
  await call("Page.navigate", { url: `file://${page}` }, sessionId);
  await loaded;
  let ms = 0;
  for (let tries = 0; tries < 100 && ms <= 0; tries++) {
    const r = await call("Runtime.evaluate", {
      expression: "performance.timing.loadEventEnd - performance.timing.navigationStart",
      returnByValue: true,
    }, sessionId);
    ms = r.result.value;
    if (ms <= 0) await new Promise((ok) => setTimeout(ok, 20));
  }
  await call("Target.closeTarget", { targetId });
  if (!(ms > 0)) throw new Error("loadEventEnd never set");
  return ms;
}

try {
  const times = [];
  for (let i = 0; i < loads; i++) {
    const ms = await loadOnce();
    console.error(`load ${i + 1}: ${ms} ms`);
    times.push(ms);
  }
  times.sort((a, b) => a - b);
  console.log(times[Math.floor(times.length / 2)]);
  clearTimeout(watchdog);
  ws.close();
  finish(0);
} catch (e) {
  fail(e.message);
}
