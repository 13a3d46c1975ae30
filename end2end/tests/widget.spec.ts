// The visitor widget on a customer's page of another origin: the loader, the pre-chat form,
// waiting, a live two-way conversation with typing and receipts, messages written while the
// network is down, and the same conversation in a new browser context with the same storage.
import { test, expect, Browser, Page, FrameLocator, WebSocketRoute } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { ADMIN, signIn, hydrated } from "./helpers";
import { baseURL } from "../playwright.config";

const hostURL = `http://127.0.0.1:${process.env.E2E_HOST_PORT ?? "3211"}`;
const dbURL = `${process.env.E2E_DATABASE_SERVER ?? "postgres://postgres@127.0.0.1:5432"}/switchboard_e2e_${process.env.E2E_PORT ?? "3210"}`;

/** The demo site's key, as its /demo page embeds it. */
async function siteKey(page: Page): Promise<string> {
  const html = await (await page.request.get(`${baseURL}/demo`)).text();
  return /data-site="([^"]+)"/.exec(html)![1];
}

/** A query on the test's own database (the agent inbox is issue "Agent workspace"). */
function sql(query: string): string {
  return execFileSync("psql", [dbURL, "-Atc", query], { encoding: "utf8" }).trim();
}

/** Opens the host page, clicks the launcher and waits for the hydrated widget. */
async function openWidget(page: Page, key: string): Promise<FrameLocator> {
  await page.goto(`${hostURL}/?site=${key}&server=${encodeURIComponent(baseURL)}`);
  await page.getByRole("button", { name: "Open chat" }).click();
  const chat = page.frameLocator('iframe[title="Chat"]');
  await expect(chat.locator('body[data-hydrated="true"]')).toHaveCount(1, { timeout: 30_000 });
  return chat;
}

/** An agent signed in in their own browser context (their open dashboard makes the widget online). */
async function agentSignedIn(browser: Browser) {
  const agentCtx = await browser.newContext();
  const agentPage = await agentCtx.newPage();
  await signIn(agentPage, ADMIN.email, ADMIN.password);
  return { agentCtx, agentPage };
}

/** Fills the pre-chat form with a name, starts the chat and waits for "Waiting…". */
async function startChat(chat: FrameLocator, name: string) {
  await chat.getByLabel("Name").fill(name);
  await chat.getByRole("button", { name: "Start Chat" }).click();
  await expect(chat.getByText("Waiting for support staff...")).toBeVisible();
}

/** An agent's socket in their signed-in page: frames land in window.__frames. */
async function agentSocket(page: Page, conversation: string) {
  await page.evaluate((conversation) => {
    const w = window as any;
    w.__frames = [];
    w.__ws = new WebSocket(location.origin.replace("http", "ws") + "/ws");
    w.__ws.onmessage = (e: MessageEvent) => w.__frames.push(JSON.parse(e.data));
    return new Promise((ok) => {
      w.__ws.onopen = () => {
        w.__ws.send(JSON.stringify({ type: "subscribe", conversation_id: conversation, after_seq: 0 }));
        ok(null);
      };
    });
  }, conversation);
  return {
    send: (frame: object) => page.evaluate((f) => (window as any).__ws.send(JSON.stringify(f)), frame),
    frames: () => page.evaluate(() => (window as any).__frames as any[]),
  };
}

test("a visitor on another origin chats live with an agent, offline writes, resolve and rating", async ({ page, browser, context }) => {
  const key = await siteKey(page);
  // Let the test cut the widget's socket (context-wide: the widget lives in a cross-origin iframe).
  let refuse = false;
  let current: WebSocketRoute | undefined;
  await context.routeWebSocket(/\/ws$/, (ws) => {
    if (refuse) return ws.close();
    ws.connectToServer();
    current = ws;
  });

  // An agent is signed in (their dashboard is open), so the widget is online.
  const { agentCtx, agentPage } = await agentSignedIn(browser);

  const chat = await openWidget(page, key);
  const start = chat.getByRole("button", { name: "Start Chat" });
  await expect(chat.getByLabel("Name")).toBeVisible();

  // Bad input: inline errors, nothing started.
  await start.click();
  await expect(chat.getByText("Name is required.")).toBeVisible();
  await chat.getByLabel("Name").fill("Vera Visitor");
  await chat.getByLabel("Email").fill("not-an-email");
  await start.click();
  await expect(chat.getByLabel("Email")).toHaveAttribute("aria-invalid", "true");
  await chat.getByLabel("Email").fill("vera@example.com");
  await chat.getByLabel("Phone").fill("12-34");
  await start.click();
  await expect(chat.getByText("Enter a phone number of 7 to 20 digits")).toBeVisible();
  await chat.getByLabel("Phone").fill("+44 20 7946 0958");
  await start.click();

  // Waiting until an agent joins.
  await expect(chat.getByText("Waiting for support staff...")).toBeVisible();
  await expect(chat.getByText("Status: Connecting...")).toBeVisible();
  const box = chat.getByLabel("Message");
  await box.fill("Hello, is anyone there? See https://example.com/order/42");
  await box.press("Enter");
  const mine = chat.getByRole("listitem").filter({ hasText: "Hello, is anyone there?" });
  await expect(mine).toHaveAttribute("data-state", "sent");
  await expect(mine.getByRole("link", { name: "https://example.com/order/42" })).toBeVisible();
  // Markup is text, never HTML.
  await box.fill("<b>bold?</b>");
  await chat.getByRole("button", { name: "Send" }).click();
  await expect(chat.getByText("<b>bold?</b>")).toBeVisible();

  // The token stays with the host page, not with the iframe's origin.
  const stored = await page.evaluate((k) => localStorage.getItem(`switchboard:${k}:token`), key);
  expect(stored).toBeTruthy();

  // An agent (second browser context) picks it up.
  const conversation = sql("SELECT id FROM conversations ORDER BY created_at DESC LIMIT 1");
  // What the agent will know about the visit: browser, OS, page (and its changes), language…
  const meta = (field: string) => sql(`SELECT c.metadata->>'${field}' FROM contacts c JOIN conversations v ON v.contact_id = c.id WHERE v.id = '${conversation}'`);
  await expect.poll(() => meta("page_title")).toBe("Host shop");
  expect(meta("browser")).toMatch(/Chrom/);
  expect(meta("os")).toMatch(/Linux/);
  expect(meta("ip")).toBe("127.0.0.1");
  expect(meta("language")).toBeTruthy();
  expect(meta("time_zone")).toBeTruthy();
  await page.evaluate(() => history.pushState({}, "", "/pricing"));
  await expect.poll(() => meta("page_url")).toBe(`${hostURL}/pricing`);
  const agent = await agentSocket(agentPage, conversation);
  await expect.poll(async () => (await agent.frames()).filter((f) => f.type === "event" && f.kind === "message").length).toBe(2);

  await agent.send({ type: "typing", conversation_id: conversation });
  await expect(chat.getByText("Administrator is typing…")).toBeVisible();
  await agent.send({ type: "send", conversation_id: conversation, key: "agent-1", body: "Hi Vera, I am here." });
  await expect(chat.getByText("Hi Vera, I am here.")).toBeVisible();
  await expect(chat.getByText("Waiting for support staff...")).toBeHidden();
  await expect(chat.locator(".sbw-agent")).toContainText("Administrator");
  // The panel is open: the visitor's side reports delivered and read.
  await expect.poll(async () => (await agent.frames()).some((f) => f.type === "event" && f.kind === "read" && f.by === "visitor")).toBe(true);
  // The agent reads the visitor's messages: the visitor sees "read".
  const lastVisitorSeq = Number(sql(`SELECT max(seq) FROM messages WHERE conversation_id = '${conversation}' AND author_kind = 'visitor'`));
  await agent.send({ type: "read", conversation_id: conversation, up_to_seq: lastVisitorSeq });
  await expect(mine).toHaveAttribute("data-state", "read");
  // The visitor types: the agent sees it (typing events go out at most once per 2 s, so keep
  // typing until one does).
  await expect
    .poll(async () => {
      await box.pressSequentially("k");
      return (await agent.frames()).some((f) => f.type === "typing" && f.author.side === "visitor");
    }, { intervals: [300], timeout: 10_000 })
    .toBe(true);
  await box.fill("");

  // The network drops: what the visitor writes is kept, in order, as "sending".
  refuse = true;
  await current!.close();
  await expect(chat.getByText("Reconnecting…", { exact: false })).toBeVisible();
  for (const text of ["Offline one", "Offline two", "Offline three"]) {
    await box.fill(text);
    await box.press("Enter");
  }
  for (const text of ["Offline one", "Offline two", "Offline three"]) {
    await expect(chat.getByRole("listitem").filter({ hasText: text })).toHaveAttribute("data-state", "sending");
  }
  // Back online: sent once each, in the order written.
  refuse = false;
  await context.setOffline(true);
  await context.setOffline(false);
  for (const text of ["Offline one", "Offline two", "Offline three"]) {
    await expect(chat.getByRole("listitem").filter({ hasText: text })).toHaveAttribute("data-state", /sent|delivered|read/, { timeout: 15_000 });
  }
  const stored3 = sql(`SELECT string_agg(body, '|' ORDER BY seq) FROM messages WHERE conversation_id = '${conversation}' AND body LIKE 'Offline%'`);
  expect(stored3).toBe("Offline one|Offline two|Offline three");

  // Tomorrow, a new browser context with the same storage: the same conversation.
  const state = await context.storageState();
  const again = await browser.newContext({ storageState: state });
  const page2 = await again.newPage();
  const chat2 = await openWidget(page2, key);
  await expect(chat2.getByText("Hi Vera, I am here.")).toBeVisible();
  await expect(chat2.getByText("Offline three")).toBeVisible();
  await expect(chat2.getByLabel("Name")).toHaveCount(0);

  // The agent resolves: the visitor is asked for a rating, once.
  const resolved = await agentPage.evaluate(async (conv) => {
    const r = await fetch("/api/conversations/resolve", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `conversation_id=${conv}`,
    });
    return r.status;
  }, conversation);
  expect(resolved).toBe(200);
  await expect(chat2.getByText("This chat has been resolved")).toBeVisible();
  await expect(chat2.getByRole("group", { name: "Rate your experience" })).toBeVisible();
  await chat2.getByRole("button", { name: "Submit rating" }).click();
  await expect(chat2.getByText("Choose from 1 to 5 stars.")).toBeVisible();
  await chat2.getByRole("button", { name: "4 stars" }).click();
  await expect(chat2.getByRole("button", { name: "4 stars" })).toHaveAttribute("aria-pressed", "true");
  await chat2.getByLabel("Feedback").fill("Quick and kind");
  await chat2.getByLabel("Submit anonymously").check();
  await chat2.getByRole("button", { name: "Submit rating" }).click();
  await expect(chat2.getByText("Thank you for your feedback.")).toBeVisible();
  expect(sql(`SELECT score || '|' || feedback || '|' || anonymous FROM ratings WHERE conversation_id = '${conversation}'`)).toBe("4|Quick and kind|true");
  // The first tab saw the resolution live, and shows thanks, not a second form.
  await expect(chat.getByText("Thank you for your feedback.")).toBeVisible();
  await expect(chat.getByRole("button", { name: "Submit rating" })).toHaveCount(0);

  // Writing again reopens the chat: waiting, same history.
  await chat2.getByLabel("Message").fill("One more question");
  await chat2.getByLabel("Message").press("Enter");
  await expect(chat2.getByText("Waiting for support staff...")).toBeVisible();
  await expect(chat2.getByText("Hi Vera, I am here.")).toBeVisible();
  expect(sql(`SELECT status FROM conversations WHERE id = '${conversation}'`)).toBe("waiting");

  // Escape closes the panel and gives focus back to the launcher.
  await chat2.getByLabel("Message").focus();
  await page2.keyboard.press("Escape");
  await expect(page2.locator("iframe[title='Chat']")).toBeHidden();
  await expect(page2.getByRole("button", { name: "Open chat" })).toBeFocused();
  await again.close();
  await agentCtx.close();
});

test("a page on an origin the site does not allow gets no widget and a console message", async ({ page }) => {
  const key = await siteKey(page);
  sql(`UPDATE sites SET allowed_origins = '{https://only.example}' WHERE key = '${key}'`);
  try {
    const messages: string[] = [];
    page.on("console", (m) => messages.push(m.text()));
    await page.goto(`${hostURL}/?site=${key}&server=${encodeURIComponent(baseURL)}`);
    await expect.poll(() => messages.some((m) => m.includes("does not allow the chat widget"))).toBe(true);
    await expect(page.getByRole("button", { name: "Open chat" })).toHaveCount(0);
  } finally {
    sql(`UPDATE sites SET allowed_origins = '{}' WHERE key = '${key}'`);
  }
});

test("a visitor writing faster than the rate limit loses nothing: refused sends go out again", async ({ page, browser }) => {
  const key = await siteKey(page);
  const { agentCtx, agentPage } = await agentSignedIn(browser);
  const chat = await openWidget(page, key);
  await startChat(chat, "Rita Rapid");
  const conversation = sql("SELECT id FROM conversations ORDER BY created_at DESC LIMIT 1");

  // The bucket holds 20 and refills at 1 a second: the last few of 25 are refused with a
  // retry time, and the widget's outbox writes them again when it has passed.
  const box = chat.getByLabel("Message");
  for (let i = 1; i <= 25; i++) {
    await box.fill(`burst ${i}`);
    await box.press("Enter");
  }
  const last = chat.getByRole("listitem").filter({ hasText: "burst 25" });
  await expect(last).toHaveAttribute("data-state", "sent", { timeout: 20_000 });
  await expect(chat.locator('li[data-state="sending"], li[data-state="failed"]')).toHaveCount(0);
  // Each stored once, in the order written.
  const stored = sql(`SELECT string_agg(body, ',' ORDER BY seq) FROM messages WHERE conversation_id = '${conversation}' AND author_kind = 'visitor'`);
  expect(stored).toBe(Array.from({ length: 25 }, (_, i) => `burst ${i + 1}`).join(","));
  await agentCtx.close();
});

test("with guest mode off, an unidentified visitor is asked to sign in", async ({ page }) => {
  const key = await siteKey(page);
  sql(`UPDATE sites SET guest_mode = false WHERE key = '${key}'`);
  try {
    const chat = await openWidget(page, key);
    await expect(chat.getByText("Please sign in to chat with us.")).toBeVisible();
    await expect(chat.getByRole("button", { name: "Start Chat" })).toHaveCount(0);
  } finally {
    sql(`UPDATE sites SET guest_mode = true WHERE key = '${key}'`);
  }
});

test("identify with a good hash brings the guest history to a new device; a forged one does nothing", async ({ page, browser }) => {
  const key = await siteKey(page);
  const agentCtx = await browser.newContext();
  await signIn(await agentCtx.newPage(), ADMIN.email, ADMIN.password);
  const email = `ida-${Date.now()}@example.com`;
  // As a guest, on a first device.
  const chat = await openWidget(page, key);
  await chat.getByLabel("Name").fill("Ida");
  await chat.getByLabel("Email").fill(email);
  await chat.getByRole("button", { name: "Start Chat" }).click();
  await chat.getByLabel("Message").fill("Guest message from Ida");
  await chat.getByLabel("Message").press("Enter");
  await expect(chat.getByRole("listitem").filter({ hasText: "Guest message from Ida" })).toHaveAttribute("data-state", /sent|delivered|read/);

  const secret = sql(`SELECT identity_secret FROM sites WHERE key = '${key}'`);
  const userId = `ida-${Date.now()}`;
  const good = createHmac("sha256", secret).update(userId).digest("hex");
  const forged = createHmac("sha256", "not-the-secret").update(userId).digest("hex");

  async function onNewDevice(hash: string) {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    await p.goto(`${hostURL}/?site=${key}&server=${encodeURIComponent(baseURL)}`);
    await p.waitForFunction(() => (window as any).Switchboard?.loaded === true);
    // The host site signed the user up with the same email (another case).
    await p.evaluate(
      ([userId, email, hash]) => (window as any).Switchboard.identify({ user_id: userId, email: email.toUpperCase(), name: "Ida", user_hash: hash }),
      [userId, email, hash],
    );
    await p.getByRole("button", { name: "Open chat" }).click();
    const c = p.frameLocator('iframe[title="Chat"]');
    await expect(c.locator('body[data-hydrated="true"]')).toHaveCount(1, { timeout: 30_000 });
    return { ctx, chat: c };
  }

  // Forged: nothing merged, nothing shown — a fresh pre-chat form.
  const forgedDevice = await onNewDevice(forged);
  await expect(forgedDevice.chat.getByRole("button", { name: "Start Chat" })).toBeVisible();
  await expect(forgedDevice.chat.getByText("Guest message from Ida")).toHaveCount(0);
  expect(sql(`SELECT count(*) FROM contacts WHERE external_id = '${userId}'`)).toBe("0");
  await forgedDevice.ctx.close();

  // Good: the guest conversation follows the registered visitor to this device.
  const goodDevice = await onNewDevice(good);
  await expect(goodDevice.chat.getByText("Guest message from Ida")).toBeVisible();
  await expect(goodDevice.chat.getByLabel("Name")).toHaveCount(0);
  await goodDevice.chat.getByLabel("Message").fill("Now signed in");
  await goodDevice.chat.getByLabel("Message").press("Enter");
  await expect(goodDevice.chat.getByRole("listitem").filter({ hasText: "Now signed in" })).toHaveAttribute("data-state", /sent|delivered|read/);
  expect(sql(`SELECT count(*) FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.external_id = '${userId}'`)).toBe("1");
  await goodDevice.ctx.close();
  await agentCtx.close();
});

test("with no agent available, the widget takes a message that becomes a case", async ({ page, browser }) => {
  const key = await siteKey(page);
  // The only agent is signed in but switches "Available" off.
  const { agentCtx, agentPage } = await agentSignedIn(browser);
  await hydrated(agentPage);
  const available = agentPage.getByRole("switch", { name: "Available" });
  await expect(available).toBeChecked();
  await available.uncheck();
  await expect.poll(() => sql(`SELECT available FROM users WHERE email = '${ADMIN.email}'`)).toBe("f");
  try {
    let chat!: FrameLocator;
    await expect(async () => {
      chat = await openWidget(page, key);
      await expect(chat.getByText("We're offline right now")).toBeVisible({ timeout: 2_000 });
    }).toPass({ timeout: 20_000 });
    const send = chat.getByRole("button", { name: "Send message" });
    await chat.getByLabel("Name").fill("Olga Offline");
    await chat.getByLabel("Message").fill("Please call me about order 42");
    await send.click();
    await expect(chat.getByText("Give an email or a phone number so we can answer you.")).toBeVisible();
    await chat.getByLabel("Phone").fill("+44 20 7946 0958");
    await send.click();
    await expect(chat.getByText("Thank you! We received your message and will get back to you.")).toBeVisible();
    expect(sql(`SELECT name || '|' || phone || '|' || message || '|' || status FROM cases ORDER BY created_at DESC LIMIT 1`)).toBe(
      "Olga Offline|+44 20 7946 0958|Please call me about order 42|open",
    );

    // Available again: the next visitor gets the pre-chat form.
    await available.check();
    await expect(available).toBeChecked();
    await expect.poll(() => sql(`SELECT available FROM users WHERE email = '${ADMIN.email}'`)).toBe("t");
    const again = await openWidget(page, key);
    await expect(again.getByRole("button", { name: "Start Chat" })).toBeVisible();
  } finally {
    sql(`UPDATE users SET available = true WHERE email = '${ADMIN.email}'`);
    await agentCtx.close();
  }
});

test("attachments: a picked file, a pasted image, a refused type, and the agent downloads", async ({ page, browser }) => {
  const key = await siteKey(page);
  const { agentCtx, agentPage } = await agentSignedIn(browser);
  const chat = await openWidget(page, key);
  await startChat(chat, "Fiona Files");
  await expect(chat.getByRole("button", { name: "Attach file" })).toBeVisible();

  // "Attach file": a PDF goes up and shows as a download link.
  const pdf = Buffer.from("%PDF-1.4\n% a tiny test document\n");
  await chat.locator('input[type="file"]').setInputFiles({ name: "invoice.pdf", mimeType: "application/pdf", buffer: pdf });
  const pdfItem = chat.getByRole("listitem").filter({ hasText: "invoice.pdf" });
  await expect(pdfItem).toHaveAttribute("data-state", /sent|delivered|read/);
  await expect(pdfItem.getByRole("link", { name: /invoice\.pdf/ })).toHaveAttribute("href", /^blob:/);

  // A type the site does not allow: a clear message on that one, the chat goes on.
  await chat.locator('input[type="file"]').setInputFiles({ name: "page.html", mimeType: "text/html", buffer: Buffer.from("<p>hi</p>") });
  const refused = chat.getByRole("listitem").filter({ hasText: "page.html" });
  await expect(refused).toHaveAttribute("data-state", "not sent");
  await expect(refused.getByRole("alert")).toContainText("text/html cannot be sent here");
  await chat.getByLabel("Message").fill("Still here");
  await chat.getByLabel("Message").press("Enter");
  await expect(chat.getByRole("listitem").filter({ hasText: "Still here" })).toHaveAttribute("data-state", /sent|delivered|read/);

  // A pasted image shows inline as a thumbnail.
  const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
  const frame = page.frames().find((f) => f.url().includes("/widget/"))!;
  await frame.evaluate((b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], "pasted.png", { type: "image/png" }));
    const box = document.querySelector("textarea#sbw-message")!;
    box.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
  }, png);
  const thumb = chat.getByRole("img", { name: "pasted.png" });
  await expect(thumb).toBeVisible();
  await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(1);

  // The agent of the site downloads the PDF, byte for byte, with safe headers.
  const conversation = sql("SELECT id FROM conversations ORDER BY created_at DESC LIMIT 1");
  const fileId = sql(`SELECT id FROM attachments WHERE conversation_id = '${conversation}' AND filename = 'invoice.pdf'`);
  const got = await agentPage.evaluate(async (id) => {
    const r = await fetch(`/files/${id}`);
    return { status: r.status, type: r.headers.get("content-type"), nosniff: r.headers.get("x-content-type-options"), disposition: r.headers.get("content-disposition"), text: await r.text() };
  }, fileId);
  expect(got).toEqual({ status: 200, type: "application/pdf", nosniff: "nosniff", disposition: "attachment; filename*=UTF-8''invoice.pdf", text: pdf.toString() });
  // Nobody else can.
  const anon = await page.request.get(`${baseURL}/files/${fileId}`);
  expect(anon.status()).toBe(401);
  await agentCtx.close();
});

test("unread badge and callback while closed; keyboard stays in the open chat", async ({ page, browser }) => {
  const key = await siteKey(page);
  const { agentCtx, agentPage } = await agentSignedIn(browser);
  const chat = await openWidget(page, key);
  // Focus is in the chat's first field, and Tab never leaves the panel.
  await expect(chat.getByLabel("Name")).toBeFocused();
  await chat.getByLabel("Name").fill("Kim Keys");
  for (let i = 0; i < 8; i++) await page.keyboard.press("Tab");
  const inside = await page.frames().find((f) => f.url().includes("/widget/"))!.evaluate(() => document.hasFocus() && document.activeElement !== document.body);
  expect(inside).toBe(true);
  await chat.getByRole("button", { name: "Start Chat" }).click();
  await expect(chat.getByText("Waiting for support staff...")).toBeVisible();
  await expect(chat.getByLabel("Message")).toBeFocused();

  await page.evaluate(() => {
    (window as any).__unread = [];
    (window as any).Switchboard.on("unread", (n: number) => (window as any).__unread.push(n));
  });
  // "Close chat" closes the panel; focus returns to the launcher.
  await chat.getByRole("button", { name: "Close chat" }).click();
  const launcher = page.getByRole("button", { name: "Open chat" });
  await expect(launcher).toBeFocused();
  await expect(launcher).toHaveAttribute("aria-expanded", "false");

  // The agent writes while the panel is closed: a badge and the callback.
  const conversation = sql("SELECT id FROM conversations ORDER BY created_at DESC LIMIT 1");
  const agent = await agentSocket(agentPage, conversation);
  await agent.send({ type: "send", conversation_id: conversation, key: "u1", body: "Are you still there?" });
  await expect(launcher).toHaveAttribute("aria-description", "1 unread");
  await expect.poll(() => page.evaluate(() => (window as any).__unread)).toContain(1);
  // Not read yet: the agent sees "delivered", not "read".
  await expect.poll(async () => (await agent.frames()).some((f) => f.type === "event" && f.kind === "delivered" && f.by === "visitor")).toBe(true);
  expect((await agent.frames()).some((f) => f.type === "event" && f.kind === "read" && f.by === "visitor")).toBe(false);

  // Opening reads it: the badge goes, the agent sees "read".
  await page.evaluate(() => (window as any).Switchboard.open());
  await expect(chat.getByText("Are you still there?")).toBeVisible();
  await expect(launcher).toHaveAttribute("aria-description", "");
  await expect.poll(async () => (await agent.frames()).some((f) => f.type === "event" && f.kind === "read" && f.by === "visitor")).toBe(true);
  await agentCtx.close();
});

test("the dashboard's Waiting list updates live; Assign to me takes the chat and the visitor sees who", async ({ page, browser }) => {
  const key = await siteKey(page);
  const { agentCtx, agentPage } = await agentSignedIn(browser);
  await hydrated(agentPage);
  const waiting = agentPage.getByRole("list", { name: "Waiting" });
  await expect(agentPage.getByText("Connected")).toBeVisible();
  const visitor = `Wanda ${Date.now()}`;
  const chat = await openWidget(page, key);
  await chat.getByLabel("Name").fill(visitor);
  await chat.getByRole("button", { name: "Start Chat" }).click();
  await chat.getByLabel("Message").fill("Hello from the queue");
  await chat.getByLabel("Message").press("Enter");
  // Live, without a reload.
  const entry = waiting.getByRole("listitem").filter({ hasText: visitor });
  await expect(entry).toBeVisible();
  await expect(agentPage.getByRole("heading", { name: /^Waiting \d+/ })).toBeVisible();
  await entry.getByRole("button", { name: "Assign to me" }).click();
  await expect(entry).toHaveCount(0);
  await expect(chat.getByText("Waiting for support staff...")).toBeHidden();
  await expect(chat.locator(".sbw-agent")).toContainText("Administrator");
  await agentCtx.close();
});
