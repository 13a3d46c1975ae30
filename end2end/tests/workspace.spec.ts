// The agent workspace with several agents and visitors in Chromium: group chat seen by two
// agents, the race for "Assign to me", private notes that never reach the widget, canned
// responses, rename and tags, transfer to a level-2 specialist, resolve / reopen, turning a
// chat into a case, auto-assignment under a cap, and the tab title's unread count.
//
// Each test makes its own site (and groups) in the database, so agents see only that site.
import { test, expect, Page, Browser, FrameLocator } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { ADMIN, signIn, hydrated, createAccount } from "./helpers";
import { baseURL } from "../playwright.config";

const hostURL = `http://127.0.0.1:${process.env.E2E_HOST_PORT ?? "3211"}`;
const dbURL = `${process.env.E2E_DATABASE_SERVER ?? "postgres://postgres@127.0.0.1:5432"}/switchboard_e2e_${process.env.E2E_PORT ?? "3210"}`;

function sql(query: string): string {
  return execFileSync("psql", [dbURL, "-qAtc", query], { encoding: "utf8" }).trim();
}

/** A new site whose guests go to a new group "Support"; returns its key and group ids. */
function newSite(mode: "off" | "round_robin" | "least_busy" = "off") {
  const key = randomUUID();
  const site = sql(`INSERT INTO sites (key, name, identity_secret, assignment_mode) VALUES ('${key}', 'Site ${key.slice(0, 6)}', 'secret', '${mode}') RETURNING id`);
  const support = sql(`INSERT INTO groups (site_id, name) VALUES ('${site}', 'Support') RETURNING id`);
  const experts = sql(`INSERT INTO groups (site_id, name) VALUES ('${site}', 'Experts') RETURNING id`);
  sql(`UPDATE sites SET guest_group_id = '${support}' WHERE id = '${site}'`);
  return { key, site, support, experts };
}

function join(group: string, email: string, level: 1 | 2) {
  sql(`INSERT INTO group_members (group_id, user_id, level) SELECT '${group}', id, ${level} FROM users WHERE email = '${email}'`);
}

/** An agent's dashboard in its own browser context. */
async function dashboard(browser: Browser, who: { email: string; password: string }) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await signIn(page, who.email, who.password);
  await hydrated(page);
  await expect(page.getByText("Connected")).toBeVisible();
  return { ctx, page };
}

/** A visitor on the customer's page (another origin) who starts a chat and says hello. */
async function visitor(browser: Browser, key: string, name: string, hello: string): Promise<{ page: Page; chat: FrameLocator }> {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${hostURL}/?site=${key}&server=${encodeURIComponent(baseURL)}`);
  await page.getByRole("button", { name: "Open chat" }).click();
  const chat = page.frameLocator('iframe[title="Chat"]');
  await expect(chat.locator('body[data-hydrated="true"]')).toHaveCount(1, { timeout: 30_000 });
  await chat.getByLabel("Name").fill(name);
  await chat.getByRole("button", { name: "Start Chat" }).click();
  await chat.getByLabel("Message").fill(hello);
  await chat.getByLabel("Message").press("Enter");
  await expect(chat.locator(".sbw-mine").last()).toHaveAttribute("data-state", /sent|delivered|read/);
  return { page, chat };
}

async function open(page: Page, list: "Waiting" | "Chatting", name: string) {
  await page.getByRole("list", { name: list }).getByRole("link", { name }).click();
  await expect(page.getByRole("region", { name: "Conversation" })).toBeVisible();
}

async function say(page: Page, text: string) {
  await page.getByLabel("Message").fill(text);
  await page.getByLabel("Message").press("Enter");
}

test("two agents share a group chat, race for it, note, canned reply, rename and tag, transfer to level 2, resolve, reopen, case", async ({ page, browser }) => {
  test.setTimeout(240_000);
  await signIn(page, ADMIN.email, ADMIN.password);
  const [amy, bob, cyd] = [await createAccount(page), await createAccount(page), await createAccount(page)];
  const s = newSite();
  join(s.support, amy.email, 1);
  join(s.support, bob.email, 1);
  join(s.experts, cyd.email, 2);
  const a = await dashboard(browser, amy);
  const b = await dashboard(browser, bob);
  const c = await dashboard(browser, cyd);

  // Group chat: both level-1 agents see the waiting visitor and open the conversation.
  const vera = await visitor(browser, s.key, "Vera", "My parcel is late");
  for (const p of [a.page, b.page]) {
    await expect(p.getByRole("list", { name: "Waiting" }).getByRole("link", { name: "Vera" })).toBeVisible();
    await open(p, "Waiting", "Vera");
    await expect(p.getByRole("list", { name: "Transcript" })).toContainText("My parcel is late");
  }
  // The level-2 specialist does not get visitor-initiated chats.
  await expect(c.page.getByRole("list", { name: "Waiting" })).toContainText("Nobody is waiting.");

  // Amy replies; Bob sees it live, and may reply too; the visitor sees both.
  await say(a.page, "Hello Vera, I am looking into it");
  await expect(b.page.getByRole("list", { name: "Transcript" })).toContainText("Hello Vera, I am looking into it");
  await say(b.page, "Bob here, also watching");
  await expect(vera.chat.locator(".sbw-messages")).toContainText("Bob here, also watching");
  await expect(a.page.getByRole("list", { name: "Transcript" })).toContainText("Bob here, also watching");
  // Amy's first reply made it hers: active, in her Chatting list, first.
  await expect(a.page.locator(".conv-state .status")).toHaveText("active");
  await expect(a.page.getByRole("list", { name: "Chatting" }).getByRole("listitem").first()).toContainText("Mine");

  // Private note: other agents see it, the visitor never does.
  await a.page.getByRole("button", { name: "Note", exact: true }).click();
  await say(a.page, "Secret: refund approved");
  await expect(b.page.getByRole("list", { name: "Transcript" })).toContainText("Secret: refund approved");
  await expect(b.page.locator(".msg.note")).toContainText("Private note");
  await a.page.getByRole("button", { name: "Reply", exact: true }).click();

  // Canned response: Amy saves one, then "/hel" + Tab inserts it with the placeholders filled.
  await a.page.getByRole("link", { name: "Canned responses" }).click();
  await a.page.getByLabel("Shortcut").fill("hello");
  await a.page.getByLabel("Text").fill("Hi {{visitor.name}}, this is {{agent.name}}.");
  await a.page.getByRole("button", { name: "Save response" }).click();
  await expect(a.page.getByText("/hello", { exact: true })).toBeVisible();
  await open(a.page, "Chatting", "Vera");
  await a.page.getByLabel("Message").fill("/hel");
  await expect(a.page.getByRole("listbox", { name: "Canned responses" }).getByRole("option")).toHaveCount(1);
  await a.page.getByLabel("Message").press("Tab");
  await expect(a.page.getByLabel("Message")).toHaveValue(`Hi Vera, this is ${amy.name}.`);
  await a.page.getByLabel("Message").press("Enter");
  await expect(vera.chat.locator(".sbw-messages")).toContainText(`Hi Vera, this is ${amy.name}.`);
  await expect(vera.chat.locator(".sbw-messages")).not.toContainText("Secret: refund approved");

  // Rename (click the title) and tag; Bob sees both live.
  await a.page.getByRole("button", { name: "Vera (rename)" }).click();
  await a.page.getByLabel("Conversation title").fill("Late parcel #42");
  await a.page.getByRole("button", { name: "Save title" }).click();
  await expect(a.page.getByRole("button", { name: "Late parcel #42 (rename)" })).toBeVisible();
  await a.page.getByLabel("Add tag").fill("Shipping");
  await a.page.getByRole("button", { name: "Add tag" }).click();
  await expect(a.page.getByRole("list", { name: "Tags" })).toContainText("shipping");
  await a.page.getByLabel("Add tag").fill("urgent");
  await a.page.getByRole("button", { name: "Add tag" }).click();
  await expect(b.page.getByRole("list", { name: "Tags" })).toContainText("shipping");
  await expect(b.page.getByRole("button", { name: "Late parcel #42 (rename)" })).toBeVisible();
  await a.page.getByRole("button", { name: "Remove tag urgent" }).click();
  await expect(a.page.getByRole("list", { name: "Tags" })).not.toContainText("urgent");

  // Transfer to the experts' group with a note: the level-2 specialist gets it and reads the note.
  await a.page.getByLabel("Transfer to").selectOption({ label: "Group: Experts" });
  await a.page.getByLabel("Transfer note").fill("Needs a refund specialist");
  await a.page.getByRole("button", { name: "Transfer" }).click();
  await expect(a.page.locator(".conv-state .status")).toHaveText("waiting");
  await expect(c.page.getByRole("list", { name: "Waiting" }).getByRole("link", { name: "Late parcel #42" })).toBeVisible();
  await open(c.page, "Waiting", "Late parcel #42");
  await expect(c.page.getByRole("list", { name: "Transcript" })).toContainText("transferred this chat to Experts: Needs a refund specialist");
  await c.page.getByRole("region", { name: "Conversation" }).getByRole("button", { name: "Assign to me" }).click();
  await expect(c.page.locator(".conv-state")).toContainText(`Assigned to ${cyd.name}`);
  await expect(vera.chat.locator(".sbw-agent")).toContainText(cyd.name);

  // Resolve and reopen; then resolve again and turn it into a case.
  await c.page.getByRole("button", { name: "Resolve" }).click();
  await expect(vera.chat.getByText("This chat has been resolved")).toBeVisible();
  await expect(c.page.locator(".conv-state .status")).toHaveText("resolved");
  await c.page.getByRole("button", { name: "Reopen" }).click();
  await expect(c.page.locator(".conv-state .status")).toHaveText("assigned");
  await c.page.getByRole("button", { name: "Resolve" }).click();
  // As an agent would: "Turn chat into case" once the chat shows as resolved.
  await expect(c.page.locator(".conv-state .status")).toHaveText("resolved");
  await c.page.getByRole("button", { name: "Turn chat into case" }).click();
  await expect(c.page).toHaveURL(/\/agent\/cases$/);
  await c.page.getByRole("button", { name: "Vera" }).first().click();
  await expect(c.page.getByRole("link", { name: "Open transcript" })).toBeVisible();
  await c.page.getByRole("link", { name: "Open transcript" }).click();
  await expect(c.page.getByRole("list", { name: "Transcript" })).toContainText("My parcel is late");

  // The race: a new chat, both level-1 agents press "Assign to me" at once; one is told.
  const walt = await visitor(browser, s.key, "Walt", "Anyone there?");
  const entryA = a.page.getByRole("list", { name: "Waiting" }).getByRole("listitem").filter({ hasText: "Walt" });
  const entryB = b.page.getByRole("list", { name: "Waiting" }).getByRole("listitem").filter({ hasText: "Walt" });
  await expect(entryA).toBeVisible();
  await expect(entryB).toBeVisible();
  // Clicks dispatched on the buttons themselves, at once: a pointer click waits for the other
  // page's list to settle (entries re-render on every queue change), which spoils the race.
  await Promise.all([
    entryA.getByRole("button", { name: "Assign to me" }).dispatchEvent("click"),
    entryB.getByRole("button", { name: "Assign to me" }).dispatchEvent("click"),
  ]);
  const told = (p: Page) => p.getByRole("alert").filter({ hasText: "Someone else took this chat" });
  await expect.poll(async () => (await told(a.page).count()) + (await told(b.page).count())).toBe(1);
  const winner = sql(`SELECT u.email FROM conversations c JOIN users u ON u.id = c.assignee_id JOIN contacts k ON k.id = c.contact_id WHERE k.name = 'Walt' AND c.site_id = '${s.site}'`);
  expect([amy.email, bob.email]).toContain(winner);
  await expect(walt.chat.locator(".sbw-agent")).toBeVisible();
  for (const x of [a, b, c]) await x.ctx.close();
});

test("auto-assignment respects the cap, and the next chat goes out when a slot frees; the title counts unread", async ({ page, browser }) => {
  test.setTimeout(120_000);
  await signIn(page, ADMIN.email, ADMIN.password);
  const dee = await createAccount(page);
  const s = newSite("round_robin");
  join(s.support, dee.email, 1);
  sql(`UPDATE users SET max_chats = 1 WHERE email = '${dee.email}'`);
  const d = await dashboard(browser, dee);

  // First chat: assigned to Dee at once (she is available and under her cap).
  const first = await visitor(browser, s.key, "Fay", "First in line");
  await expect(first.chat.locator(".sbw-agent")).toContainText(dee.name);
  await expect(d.page.getByRole("list", { name: "Chatting" }).getByRole("link", { name: "Fay" })).toBeVisible();
  // Second chat: Dee is at her cap, so it waits.
  const second = await visitor(browser, s.key, "Gus", "Second in line");
  await expect(d.page.getByRole("list", { name: "Waiting" }).getByRole("link", { name: "Gus" })).toBeVisible();
  await expect(second.chat.getByText("Waiting for support staff...")).toBeVisible();

  // She reads Fay's chat, goes back to the lists; a message in it now counts in the tab title.
  await open(d.page, "Chatting", "Fay");
  await expect(d.page.getByRole("list", { name: "Transcript" })).toContainText("First in line");
  await d.page.getByRole("link", { name: "Conversations" }).click();
  await expect(d.page).toHaveTitle(/^Dashboard/);
  await first.chat.getByLabel("Message").fill("Are you there?");
  await first.chat.getByLabel("Message").press("Enter");
  await expect(d.page).toHaveTitle(/^\(1\) Dashboard/);
  await expect(d.page.getByRole("list", { name: "Chatting" }).getByLabel("1 unread")).toBeVisible();
  await open(d.page, "Chatting", "Fay");
  await expect(d.page).not.toHaveTitle(/^\(\d+\)/);

  // Resolving Fay's chat frees a slot: Gus is assigned to Dee without anyone clicking.
  await d.page.getByRole("button", { name: "Resolve" }).click();
  await expect(second.chat.locator(".sbw-agent")).toContainText(dee.name);
  await expect(d.page.getByRole("list", { name: "Chatting" }).getByRole("link", { name: "Gus" })).toBeVisible();
  await d.ctx.close();
});

test("info cards show the visitor on hover and on keyboard focus; entries carry their status colour", async ({ page, browser }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  const s = newSite();
  const eve = await visitor(browser, s.key, "Eve", "Where is my order?");
  await page.goto("/agent");
  await hydrated(page);
  const link = page.getByRole("list", { name: "Waiting" }).getByRole("link", { name: "Eve" });
  await link.hover();
  const card = page.getByRole("tooltip").filter({ hasText: "Eve" });
  await expect(card).toBeVisible();
  await expect(card).toContainText("Last message: Where is my order?");
  await expect(card).toContainText("Browser:");
  // Keyboard users get the same card when the entry's link has focus.
  await page.mouse.move(0, 0);
  await expect(card).toBeHidden();
  await link.focus();
  await expect(card).toBeVisible();
  await expect(page.getByRole("list", { name: "Waiting" }).getByRole("listitem").filter({ hasText: "Eve" })).toHaveClass(/status-waiting/);
  await eve.page.close();
});
