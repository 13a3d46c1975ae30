// What a customer's page pays for the widget, measured in Debian's Chromium:
//   - bytes on the wire before the chat is opened (loader + launcher settings),
//   - bytes on the wire when it is opened (iframe page, JS glue, WASM; CSS is inlined),
//   - time from the click on "Open chat" to a usable, hydrated widget.
// Run through `bash .ci/bench-widget` (it builds the release and starts the servers).
import { chromium } from "@playwright/test";
import { get } from "node:http";

const server = process.env.BENCH_SERVER ?? "http://127.0.0.1:3290";
const host = process.env.BENCH_HOST ?? "http://127.0.0.1:3291";
const runs = Number(process.env.BENCH_RUNS ?? 7);

const demo = await (await fetch(`${server}/demo`)).text();
const key = /data-site="([^"]+)"/.exec(demo)[1];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = [];
for (let i = 0; i < runs; i++) {
  const context = await browser.newContext(); // a cold cache every run
  const page = await context.newPage();
  const transfers = [];
  context.on("requestfinished", async (req) => {
    if (!req.url().startsWith(server)) return; // the customer's own page is not ours
    const sizes = await req.sizes();
    transfers.push({ url: req.url().slice(server.length), bytes: sizes.responseBodySize + sizes.responseHeadersSize, at: Date.now() });
  });
  await page.goto(`${host}/?site=${key}&server=${encodeURIComponent(server)}`);
  const launcher = page.getByRole("button", { name: "Open chat" });
  await launcher.waitFor();
  await page.waitForLoadState("networkidle");
  const before = transfers.reduce((n, t) => n + t.bytes, 0);
  const clickedAt = Date.now();
  await launcher.click();
  const frame = page.frameLocator('iframe[title="Chat"]');
  await frame.locator('body[data-hydrated="true"]').waitFor({ state: "attached", timeout: 60_000 });
  await frame.getByLabel("Name").waitFor();
  const interactiveMs = Date.now() - clickedAt;
  await page.waitForLoadState("networkidle");
  const opened = transfers.filter((t) => t.at >= clickedAt);
  results.push({ before, opened: opened.reduce((n, t) => n + t.bytes, 0), interactiveMs, files: opened.map((t) => `${t.url} ${t.bytes}`), urls: opened.map((t) => t.url) });
  await context.close();
}
await browser.close();

console.log(JSON.stringify(results[0].files, null, 1));
console.log(`runs: ${runs}`);
console.log(`before opening (loader + settings), bytes on the wire: ${median(results.map((r) => r.before))}`);
console.log(`opened (page + JS + WASM), bytes on the wire:          ${median(results.map((r) => r.opened))}`);
console.log(`click to interactive, ms (median / min / max):         ${median(results.map((r) => r.interactiveMs))} / ${Math.min(...results.map((r) => r.interactiveMs))} / ${Math.max(...results.map((r) => r.interactiveMs))}`);

// The target counts gzip (Chromium is sent Brotli): the same files asked for with gzip only,
// body bytes as sent (node:http does not decompress).
const gzipBytes = (path) =>
  new Promise((ok, fail) =>
    get(`${server}${path}`, { headers: { "accept-encoding": "gzip" } }, (res) => {
      let n = 0;
      res.on("data", (c) => (n += c.length));
      res.on("end", () => ok({ path, n, encoding: res.headers["content-encoding"] ?? "none" }));
    }).on("error", fail),
  );
const gz = await Promise.all(results[0].urls.map(gzipBytes));
for (const f of gz) console.log(`  ${f.path.split("?")[0]}: ${f.n} bytes (${f.encoding})`);
console.log(`opened (page + JS + WASM), gzip only, bodies:          ${gz.reduce((n, f) => n + f.n, 0)}`);
