// Admin settings end to end, everything through the admin pages: a site with a group of a
// level-1 and a level-2 agent and guest mode (the agents see exactly what their levels say),
// the auto-greeting and the away message, guest mode off and on again, working hours that
// put the site offline (the widget switches to the offline form), and a rotated identity
// secret after which a hash made with the old one no longer verifies.
import { test, expect, Page, Browser, FrameLocator } from "@playwright/test";
import { createHmac } from "node:crypto";
import { ADMIN, signIn, hydrated, createAccount, unique } from "./helpers";
import { baseURL } from "../playwright.config";

const hostURL = `http://127.0.0.1:${process.env.E2E_HOST_PORT ?? "3211"}`;

/** On /admin/sites, creates a site; returns its key, read from the embed snippet. */
async function createSite(page: Page, name: string): Promise<string> {
  await page.goto("/admin/sites");
  await hydrated(page);
  await page.getByLabel("Site name").fill(name);
  await page.getByRole("button", { name: "Create site" }).click();
  await expect(page.getByRole("heading", { level: 2, name })).toBeVisible();
  const snippet = await page.getByLabel("Embed snippet").inputValue();
  return /data-site="([^"]+)"/.exec(snippet)![1];
}

/** Opens /admin/sites on `name`'s settings. */
async function siteSettings(page: Page, name: string) {
  await page.goto("/admin/sites");
  await hydrated(page);
  await page.getByRole("button", { name, exact: true }).click();
  await expect(page.getByRole("heading", { level: 2, name })).toBeVisible();
}

/** Opens a per-site settings page on `site`. */
async function settingsPage(page: Page, path: string, site: string) {
  await page.goto(path);
  await hydrated(page);
  await page.getByLabel("Site", { exact: true }).selectOption({ label: site });
}

/** The widget on the customer's page (another origin) in a fresh context, optionally after
 * the host page identified its user. */
async function widget(browser: Browser, key: string, identify?: object): Promise<FrameLocator> {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${hostURL}/?site=${key}&server=${encodeURIComponent(baseURL)}`);
  if (identify) {
    await page.waitForFunction(() => (window as any).Switchboard?.loaded === true);
    await page.evaluate((who) => (window as any).Switchboard.identify(who), identify);
  }
  await page.getByRole("button", { name: "Open chat" }).click();
  const chat = page.frameLocator('iframe[title="Chat"]');
  await expect(chat.locator('body[data-hydrated="true"]')).toHaveCount(1, { timeout: 30_000 });
  return chat;
}

async function dashboard(browser: Browser, who: { email: string; password: string }) {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, who.email, who.password);
  await hydrated(page);
  await expect(page.getByText("Connected")).toBeVisible();
  return page;
}

test("groups and levels, greeting, guest mode off and on, working hours and the away message", async ({ page, browser }) => {
  test.setTimeout(240_000);
  await signIn(page, ADMIN.email, ADMIN.password);
  const l1 = await createAccount(page);
  const l2 = await createAccount(page);
  const site = unique("Shop");
  const key = await createSite(page, site);

  // A group with a level-1 and a level-2 agent, and guest mode routed to it.
  await page.goto("/admin/groups");
  await hydrated(page);
  await page.getByLabel("Site", { exact: true }).selectOption({ label: site });
  await expect(page.getByRole("heading", { name: `Create group in ${site}` })).toBeVisible();
  await page.getByLabel("Group name").fill("Support");
  await page.getByRole("button", { name: "Create group" }).click();
  const group = page.getByRole("region", { name: "Support" });
  for (const [agent, level] of [
    [l1, "Level 1: serves visitor-initiated chats"],
    [l2, "Level 2: only transferred chats"],
  ] as const) {
    await group.getByLabel("Agent").selectOption({ label: agent.name });
    await group.getByLabel("Level").selectOption({ label: level });
    await group.getByRole("button", { name: "Add to group" }).click();
    await expect(group.getByRole("listitem").filter({ hasText: agent.name })).toContainText(level);
  }
  await siteSettings(page, site);
  await page.getByLabel("Guest mode").check();
  await page.getByLabel("Guest group").selectOption({ label: "Support (2 members)" });
  await page.getByRole("button", { name: "Save site" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved." })).toBeVisible();

  // Greetings: bad minutes are refused on their field; then saved.
  await settingsPage(page, "/admin/greetings", site);
  await page.getByLabel("Auto-greeting").fill(`Welcome to ${site}! An agent will be with you soon.`);
  await page.getByLabel("Send the busy reply after (minutes)").fill("0");
  await page.getByRole("button", { name: "Save greetings" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Enter whole minutes from 1 to 1440" })).toBeVisible();
  await page.getByLabel("Send the busy reply after (minutes)").fill("");
  await page.getByLabel("Away message").fill("We are closed for the day; leave us a note.");
  await page.getByRole("button", { name: "Save greetings" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Greetings saved." })).toBeVisible();

  // Both agents online; a visitor starts a chat and is greeted by the site.
  const one = await dashboard(browser, l1);
  const two = await dashboard(browser, l2);
  const chat = await widget(browser, key);
  await chat.getByLabel("Name").fill("Vera");
  await chat.getByRole("button", { name: "Start Chat" }).click();
  await expect(chat.getByText(`Welcome to ${site}! An agent will be with you soon.`)).toBeVisible();
  await chat.getByLabel("Message").fill("My order is late");
  await chat.getByLabel("Message").press("Enter");
  // Level 1 serves visitor-initiated chats; level 2 only transferred ones.
  await expect(one.getByRole("list", { name: "Waiting" }).getByRole("link", { name: "Vera" })).toBeVisible();
  await expect(two.getByRole("list", { name: "Waiting" })).toContainText("Nobody is waiting.");
  await expect(two.getByRole("list", { name: "Waiting" }).getByRole("link", { name: "Vera" })).toHaveCount(0);

  // Guest mode off: an unidentified visitor is asked to sign in; on again: the form is back.
  await siteSettings(page, site);
  await page.getByLabel("Guest mode").uncheck();
  await page.getByRole("button", { name: "Save site" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved." })).toBeVisible();
  await expect((await widget(browser, key)).getByText("Please sign in to chat with us.")).toBeVisible();
  await page.reload();
  await hydrated(page);
  await page.getByRole("button", { name: site, exact: true }).click();
  await page.getByLabel("Guest mode").check();
  await page.getByRole("button", { name: "Save site" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved." })).toBeVisible();
  await expect((await widget(browser, key)).getByRole("button", { name: "Start Chat" })).toBeVisible();

  // Working hours: a bad time zone is refused on its field; then closed every day → the
  // widget switches to the offline form with the away message, though agents are online.
  await settingsPage(page, "/admin/hours", site);
  await page.getByLabel("Use working hours").check();
  await page.getByLabel("Time zone").fill("Mars/Olympus");
  await page.getByRole("button", { name: "Save working hours" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Unknown time zone" })).toBeVisible();
  await page.getByLabel("Time zone").fill("Europe/Paris");
  for (const day of ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]) {
    await page.getByLabel(`${day} opens`).fill("");
    await page.getByLabel(`${day} closes`).fill("");
  }
  await page.getByRole("button", { name: "Save working hours" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Working hours saved." })).toBeVisible();
  const closed = await widget(browser, key);
  await expect(closed.getByText("We're offline right now")).toBeVisible();
  await expect(closed.getByText("We are closed for the day; leave us a note.")).toBeVisible();
  await expect(closed.getByRole("button", { name: "Send message" })).toBeVisible();

  // Hours off again: the visitor can chat.
  await page.reload();
  await hydrated(page);
  await page.getByLabel("Site", { exact: true }).selectOption({ label: site });
  await expect(page.getByLabel("Use working hours")).toBeChecked();
  await page.getByLabel("Use working hours").uncheck();
  await page.getByRole("button", { name: "Save working hours" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Working hours saved." })).toBeVisible();
  await expect((await widget(browser, key)).getByRole("button", { name: "Start Chat" })).toBeVisible();

  // Everything above is in the audit log.
  await page.goto("/admin/audit");
  await expect(page.getByRole("table")).toContainText("update_working_hours");
  await expect(page.getByRole("table")).toContainText("update_greetings");
});

test("after rotating the identity secret a hash made with the old one stops verifying", async ({ page, browser }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  const site = unique("Members");
  // New sites start with guest mode off: only identified visitors may chat.
  const key = await createSite(page, site);
  const rotate = async () => {
    await page.getByRole("button", { name: "Rotate identity secret" }).click();
    const shown = page.getByRole("status").filter({ hasText: "New identity secret" }).locator("code");
    await expect(shown).toBeVisible();
    return shown.innerText();
  };
  const first = await rotate();
  const userId = unique("user");
  const who = (secret: string) => ({
    user_id: userId,
    email: `${userId}@example.com`,
    name: "Mia",
    user_hash: createHmac("sha256", secret).update(userId).digest("hex"),
  });
  // Signed with the current secret: verified, so no "sign in" prompt.
  const ok = await widget(browser, key, who(first));
  await expect(ok.getByRole("button", { name: /Start Chat|Send message/ }).first()).toBeVisible();
  await expect(ok.getByText("Please sign in to chat with us.")).toHaveCount(0);

  const second = await rotate();
  expect(second).not.toBe(first);
  const stale = await widget(browser, key, who(first));
  await expect(stale.getByText("Please sign in to chat with us.")).toBeVisible();
  const fresh = await widget(browser, key, who(second));
  await expect(fresh.getByRole("button", { name: /Start Chat|Send message/ }).first()).toBeVisible();
  await expect(fresh.getByText("Please sign in to chat with us.")).toHaveCount(0);
});
