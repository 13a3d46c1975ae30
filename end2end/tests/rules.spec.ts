// Admin settings that change how agents work, seen from both sides: an agent's cap of
// simultaneous chats, the round-robin mode and a first-response target (a chat waiting past
// it shows "Overdue" in the agent's Waiting list); and a site-wide canned response the admin
// adds and edits, which an agent inserts with "/".
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

/** A new site (assignment off) with a group "Support" that `email` serves at level 1. */
function newSite(email: string) {
  const key = randomUUID();
  const name = `Site ${key.slice(0, 8)}`;
  const site = sql(`INSERT INTO sites (key, name, identity_secret) VALUES ('${key}', '${name}', 'secret') RETURNING id`);
  const group = sql(`INSERT INTO groups (site_id, name) VALUES ('${site}', 'Support') RETURNING id`);
  sql(`INSERT INTO group_members (group_id, user_id, level) SELECT '${group}', id, 1 FROM users WHERE email = '${email}'`);
  return { key, site, name };
}

async function dashboard(browser: Browser, who: { email: string; password: string }) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await signIn(page, who.email, who.password);
  await hydrated(page);
  await expect(page.getByText("Connected")).toBeVisible();
  return { ctx, page };
}

/** A visitor on the customer's page who starts a chat and says hello. */
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

test("the admin sets a cap, round robin and a first-response target; a chat past it shows Overdue", async ({ page, browser }) => {
  test.setTimeout(150_000);
  await signIn(page, ADMIN.email, ADMIN.password);
  const dee = await createAccount(page);
  const s = newSite(dee.email);

  // The agent's cap: 1 chat at a time. A bad value is refused next to the field.
  await page.getByRole("row", { name: new RegExp(dee.email) }).getByRole("button", { name: `Edit ${dee.name}` }).click();
  const edit = page.getByRole("region", { name: `Edit ${dee.name}` });
  await edit.getByLabel("Email").fill("not-an-email@x");
  await edit.getByRole("button", { name: "Save agent" }).click();
  await expect(edit.getByRole("alert")).toHaveText("Enter a valid email address.");
  await edit.getByLabel("Email").fill(dee.email);
  await edit.getByLabel("Max simultaneous chats").fill("1");
  await edit.getByRole("button", { name: "Save agent" }).click();
  await expect(edit).toHaveCount(0);
  await expect(page.getByRole("row", { name: new RegExp(dee.email) }).getByRole("cell", { name: "1", exact: true })).toBeVisible();
  expect(sql(`SELECT max_chats FROM users WHERE email = '${dee.email}'`)).toBe("1");

  // Round robin and a 1-minute first-response target for this site.
  await page.goto("/admin/rules");
  await hydrated(page);
  await page.getByLabel("Site", { exact: true }).selectOption({ label: s.name });
  await expect(page.getByLabel("Assignment mode")).toHaveValue("off");
  await page.getByLabel("Assignment mode").selectOption("round_robin");
  await page.getByRole("button", { name: "Save rules" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Rules saved." })).toBeVisible();
  await page.getByLabel("First-response target (minutes)").fill("soon");
  await page.getByRole("button", { name: "Save targets" }).click();
  await expect(page.getByRole("alert")).toContainText("enter a whole number of minutes");
  await page.getByLabel("First-response target (minutes)").fill("1");
  await page.getByRole("button", { name: "Save targets" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Targets saved." })).toBeVisible();
  expect(sql(`SELECT assignment_mode || ' ' || first_response_target_secs FROM sites WHERE id = '${s.site}'`)).toBe("round_robin 60");

  // Dee gets the first chat at once; at her cap, the second one waits.
  const d = await dashboard(browser, dee);
  const fay = await visitor(browser, s.key, "Fay", "First in line");
  await expect(fay.chat.locator(".sbw-agent")).toContainText(dee.name);
  await visitor(browser, s.key, "Gus", "Second in line");
  const gus = d.page.getByRole("list", { name: "Waiting" }).getByRole("listitem").filter({ hasText: "Gus" });
  await expect(gus).toBeVisible();
  await expect(gus.getByText("Overdue", { exact: true })).toHaveCount(0);

  // Gus has now waited 52 seconds of his minute. The list, loaded now, is not flagged yet;
  // it fetches itself again when the target passes, with no reload and no other change.
  sql(`UPDATE conversations c SET waiting_since = now() - interval '52 seconds' FROM contacts k WHERE k.id = c.contact_id AND k.name = 'Gus' AND c.site_id = '${s.site}'`);
  await d.page.reload();
  await hydrated(d.page);
  const flag = d.page.getByRole("list", { name: "Waiting" }).getByRole("listitem").filter({ hasText: "Gus" }).getByText("Overdue", { exact: true });
  await expect(d.page.getByRole("list", { name: "Waiting" }).getByRole("listitem").filter({ hasText: "Gus" })).toBeVisible();
  await expect(flag).toHaveCount(0);
  await expect(flag).toBeVisible({ timeout: 30_000 });
  await expect(flag).toHaveAttribute("title", "First response target passed");
  // The entry's info card (its link's description, shown on focus) says which target passed.
  const gusEntry = d.page.getByRole("list", { name: "Waiting" }).getByRole("listitem").filter({ hasText: "Gus" });
  await gusEntry.getByRole("link").focus();
  await expect(gusEntry.getByRole("tooltip")).toContainText("First response target passed");
  // Fay's chat is in progress and has no resolution target: not flagged.
  await expect(d.page.getByRole("list", { name: "Chatting" }).getByText("Overdue")).toHaveCount(0);
  await d.ctx.close();
});

test("an admin adds and edits a site canned response; an agent inserts it with /", async ({ page, browser }) => {
  test.setTimeout(120_000);
  await signIn(page, ADMIN.email, ADMIN.password);
  const amy = await createAccount(page);
  const s = newSite(amy.email);
  const shortcut = `thanks${Date.now().toString(36)}`;

  await page.goto("/admin/canned");
  await hydrated(page);
  await page.getByLabel("Site", { exact: true }).selectOption({ label: s.name });
  await expect(page.getByText("This site has no canned responses yet.")).toBeVisible();
  await page.getByLabel("Shortcut").fill("two words");
  await page.getByLabel("Text").fill("Thanks!");
  await page.getByRole("button", { name: "Add response" }).click();
  await expect(page.getByRole("alert")).toContainText("no spaces");
  await page.getByLabel("Shortcut").fill(shortcut);
  await page.getByLabel("Text").fill("Thanks {{visitor.name}}!");
  await page.getByRole("button", { name: "Add response" }).click();
  await expect(page.getByRole("status")).toHaveText(`Added /${shortcut}.`);
  const list = page.getByRole("list", { name: "Site canned responses" });
  await expect(list).toContainText(`/${shortcut}`);

  // Edit its text.
  await page.getByRole("button", { name: `Edit /${shortcut}` }).click();
  const item = list.getByRole("listitem").filter({ hasText: `/${shortcut}` });
  await item.getByLabel("Text").fill("Thanks {{visitor.name}}, from {{agent.name}}!");
  await item.getByRole("button", { name: "Save response" }).click();
  await expect(list).toContainText("Thanks {{visitor.name}}, from {{agent.name}}!");

  // The agent inserts it with "/" in a chat of that site.
  const a = await dashboard(browser, amy);
  const vera = await visitor(browser, s.key, "Vera", "Hello?");
  await a.page.getByRole("list", { name: "Waiting" }).getByRole("link", { name: "Vera" }).click();
  await expect(a.page.getByRole("region", { name: "Conversation" })).toBeVisible();
  await a.page.getByLabel("Message").fill(`/${shortcut.slice(0, 8)}`);
  await expect(a.page.getByRole("listbox", { name: "Canned responses" }).getByRole("option")).toHaveCount(1);
  await a.page.getByLabel("Message").press("Tab");
  await expect(a.page.getByLabel("Message")).toHaveValue(`Thanks Vera, from ${amy.name}!`);
  await a.page.getByLabel("Message").press("Enter");
  await expect(vera.chat.locator(".sbw-messages")).toContainText(`Thanks Vera, from ${amy.name}!`);

  // Deleted by the admin: gone from the page.
  await page.getByRole("button", { name: `Delete /${shortcut}` }).click();
  await expect(page.getByText("This site has no canned responses yet.")).toBeVisible();
  await a.ctx.close();
});
