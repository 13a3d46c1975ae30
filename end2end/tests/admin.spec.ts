// Admin settings: sites (create, snippet, allowed origins, identity secret, archive), groups
// with specialist levels, guest mode's rule, the audit log, and an agent refused.
import { test, expect, Page } from "@playwright/test";
import { ADMIN, signIn, createAccount, freshPage, hydrated, unique } from "./helpers";

/** On /admin/sites, creates a site and waits until its settings are shown. */
async function createSite(page: Page, name: string) {
  await page.goto("/admin/sites");
  await hydrated(page);
  await page.getByLabel("Site name").fill(name);
  await page.getByRole("button", { name: "Create site" }).click();
  await expect(page.getByRole("status").filter({ hasText: `Created ${name}.` })).toBeVisible();
  await expect(page.getByRole("heading", { level: 2, name })).toBeVisible();
}

test("an admin creates a site, copies its snippet, and sets its allowed origins", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await signIn(page, ADMIN.email, ADMIN.password);
  const name = unique("Shop");
  await createSite(page, name);

  const snippet = page.getByLabel("Embed snippet");
  await expect(snippet).toHaveJSProperty("readOnly", true);
  const text = await snippet.inputValue();
  expect(text).toMatch(/^<script src="https?:\/\/[^"]+\/widget\.js" data-site="[A-Za-z0-9_-]+" async><\/script>$/);
  await page.getByRole("button", { name: "Copy snippet" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Snippet copied." })).toBeVisible();
  // writeText settles asynchronously; the clipboard then holds exactly the snippet.
  await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(text);

  const origins = page.getByLabel("Allowed origins");
  await origins.fill("https://ok.example.com\n\nhttps://shop.example.com/cart");
  await page.getByRole("button", { name: "Save site" }).click();
  const alert = page.getByRole("alert").filter({ hasText: "is not an origin" });
  await expect(alert).toContainText("Line 3:");
  await origins.fill("https://ok.example.com\nhttp://localhost:3000");
  await page.getByRole("button", { name: "Save site" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved." })).toBeVisible();
  // After a reload the form shows what was saved.
  await page.reload();
  await hydrated(page);
  await page.getByRole("button", { name, exact: true }).click();
  await expect(page.getByLabel("Allowed origins")).toHaveValue("https://ok.example.com\nhttp://localhost:3000");
});

test("rotating the identity secret shows the new one once", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await createSite(page, unique("Shop"));
  await page.getByRole("button", { name: "Rotate identity secret" }).click();
  const first = page.getByRole("status").filter({ hasText: "New identity secret" });
  await expect(first).toBeVisible();
  const secret1 = await first.locator("code").innerText();
  await page.getByRole("button", { name: "Rotate identity secret" }).click();
  await expect(first.locator("code")).not.toHaveText(secret1);
});

test("groups, levels and guest mode: refused without members, then enabled", async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  const l1 = await createAccount(page);
  const l2 = await createAccount(page);
  const site = unique("Shop");
  await createSite(page, site);

  // Guest mode with no group is refused on the guest group field.
  await page.getByLabel("Guest mode").check();
  await page.getByRole("button", { name: "Save site" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Choose a guest group" })).toBeVisible();

  await page.goto("/admin/groups");
  await hydrated(page);
  await page.getByLabel("Site", { exact: true }).selectOption({ label: site });
  await expect(page.getByRole("heading", { name: `Create group in ${site}` })).toBeVisible();
  await page.getByLabel("Group name").fill("Sales");
  await page.getByRole("button", { name: "Create group" }).click();
  const group = page.getByRole("region", { name: "Sales" });
  await expect(group).toBeVisible();
  for (const [agent, level] of [
    [l1, "Level 1: serves visitor-initiated chats"],
    [l2, "Level 2: only transferred chats"],
  ] as const) {
    await group.getByLabel("Agent").selectOption({ label: agent.name });
    await group.getByLabel("Level").selectOption({ label: level });
    await group.getByRole("button", { name: "Add to group" }).click();
    await expect(group.getByRole("listitem").filter({ hasText: agent.name })).toContainText(level);
  }
  await group.getByRole("button", { name: `Remove ${l2.name}` }).click();
  await expect(group.getByRole("button", { name: `Remove ${l2.name}` })).toHaveCount(0);

  await page.goto("/admin/sites");
  await hydrated(page);
  await page.getByRole("button", { name: site, exact: true }).click();
  await expect(page.getByRole("heading", { level: 2, name: site })).toBeVisible();
  await page.getByLabel("Guest mode").check();
  await page.getByLabel("Guest group").selectOption({ label: "Sales (1 member)" });
  await page.getByRole("button", { name: "Save site" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved." })).toBeVisible();
  await expect(page.getByLabel("Guest mode")).toBeChecked();

  await page.goto("/admin/audit");
  await expect(page.getByRole("table")).toContainText("remove_group_member");
  await expect(page.getByRole("table")).toContainText("update_site");
});

test("an agent is refused the admin pages and functions", async ({ page, browser }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  const agent = await createAccount(page);
  const { context, page: p } = await freshPage(browser);
  await signIn(p, agent.email, agent.password);
  for (const path of ["/admin/sites", "/admin/groups", "/admin/audit"]) {
    const res = await p.goto(path);
    expect(res?.status()).toBe(403);
    await expect(p.getByRole("heading", { name: "403 — Admins only" })).toBeVisible();
  }
  const origin = new URL(p.url()).origin;
  const calls: [string, Record<string, string>][] = [
    ["admin/sites/list", {}],
    ["admin/audit", {}],
    ["admin/sites/create", { name: "Mine" }],
  ];
  for (const [fn, form] of calls) {
    const r = await p.request.post(`/api/${fn}`, { headers: { Origin: origin }, form });
    expect(r.status(), fn).toBe(403);
  }
  await context.close();
});
