// First render of the agent dashboard at size (run through `bash .ci/bench-agent`, which
// seeds 1,000 waiting and 10,000 open conversations): time from navigation to both lists
// showing their first page, and the server's answer time for each list call.
import { chromium } from "@playwright/test";

const server = process.env.BENCH_SERVER ?? "http://127.0.0.1:3292";
const runs = Number(process.env.BENCH_RUNS ?? 7);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const context = await browser.newContext();
const page = await context.newPage();
await page.goto(`${server}/login`);
await page.waitForFunction(() => document.body.dataset.hydrated === "true");
await page.getByLabel("Email").fill("admin@example.com");
await page.getByLabel("Password").fill("bench-password-1");
await page.getByRole("button", { name: "Sign in" }).click();
await page.waitForURL(/\/agent$/);

const renders = [], waitingMs = [], chattingMs = [];
for (let i = 0; i < runs; i++) {
  const timings = {};
  const onFinished = (req) => {
    const m = /\/api\/conversations\/(waiting|chatting)$/.exec(req.url());
    if (m) timings[m[1]] = req.timing().responseEnd;
  };
  page.on("requestfinished", onFinished);
  const started = Date.now();
  await page.goto(`${server}/agent`);
  await page.getByRole("list", { name: "Waiting" }).getByRole("listitem").nth(99).waitFor({ timeout: 60_000 });
  await page.getByRole("list", { name: "Chatting" }).getByRole("listitem").nth(99).waitFor({ timeout: 60_000 });
  renders.push(Date.now() - started);
  page.off("requestfinished", onFinished);
  if (timings.waiting) waitingMs.push(timings.waiting);
  if (timings.chatting) chattingMs.push(timings.chatting);
}
const heading = await page.getByRole("heading", { name: /^Waiting/ }).innerText();
const chatting = await page.getByRole("heading", { name: /^Chatting/ }).innerText();
console.log(JSON.stringify({
  runs,
  lists: { waiting: heading.replace(/\s+/g, " "), chatting: chatting.replace(/\s+/g, " ") },
  first_render_ms: { median: median(renders), min: Math.min(...renders), max: Math.max(...renders) },
  waiting_call_ms_median: Math.round(median(waitingMs)),
  chatting_call_ms_median: Math.round(median(chattingMs)),
}, null, 2));
await browser.close();
