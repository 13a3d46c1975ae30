/*! Switchboard chat loader. One script tag:
 *  <script src="https://HOST/widget.js" data-site="SITE_KEY" async></script>
 * Draws the launcher; loads the chat iframe only when first opened (or when the page is idle,
 * with data-preload="idle"). Keeps the visitor token in this page's storage and hands it to
 * the iframe by postMessage, so blocked third-party storage breaks nothing.
 * API: Switchboard.open(), .close(), .identify({user_id,email,name,user_hash}), .on('unread', fn).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.Switchboard && window.Switchboard.loaded) return;
  var site = script.getAttribute("data-site") || "";
  var base = new URL(script.src, location.href).origin;
  var storeKey = "switchboard:" + site + ":token";
  var listeners = { unread: [] };
  var state = { open: false, unread: 0, identity: null };
  var frame, panel, button, badge, ready = false;

  function store(get, value) {
    try {
      if (get) return localStorage.getItem(storeKey);
      localStorage.setItem(storeKey, value);
    } catch (e) { /* storage blocked: the chat still works, only for this page view */ }
    return null;
  }
  function post(msg) {
    if (frame && ready) frame.contentWindow.postMessage(msg, base);
  }
  function page() {
    return { url: location.href, title: document.title, referrer: document.referrer };
  }
  function emit(name, value) {
    (listeners[name] || []).forEach(function (fn) {
      try { fn(value); } catch (e) { console.error(e); }
    });
  }
  function setUnread(n) {
    state.unread = n;
    badge.textContent = n > 99 ? "99+" : String(n);
    badge.hidden = n === 0;
    button.setAttribute("aria-description", n ? n + " unread" : "");
    emit("unread", n);
  }
  function ensureFrame() {
    if (frame) return;
    frame = document.createElement("iframe");
    frame.title = "Chat";
    frame.setAttribute("allow", "clipboard-write");
    frame.src = base + "/widget/" + encodeURIComponent(site) + "?origin=" + encodeURIComponent(location.origin);
    panel.appendChild(frame);
  }
  function open() {
    if (!panel) return;
    ensureFrame();
    state.open = true;
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    post({ type: "sb:open" });
    frame.focus();
  }
  function close() {
    if (!panel || !state.open) return;
    state.open = false;
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
    post({ type: "sb:close" });
    button.focus();
  }

  window.addEventListener("message", function (e) {
    if (!frame || e.origin !== base || e.source !== frame.contentWindow) return;
    var d = e.data || {};
    if (d.type === "sb:ready") {
      ready = true;
      post({ type: "sb:init", token: store(true), open: state.open, page: page(), identity: state.identity });
    } else if (d.type === "sb:token" && typeof d.token === "string") {
      store(false, d.token);
    } else if (d.type === "sb:unread") {
      setUnread(+d.count || 0);
    } else if (d.type === "sb:close") {
      close();
    }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && state.open) close();
  });
  ["pushState", "replaceState"].forEach(function (m) {
    var orig = history[m];
    history[m] = function () {
      var r = orig.apply(this, arguments);
      post({ type: "sb:page", page: page() });
      return r;
    };
  });
  window.addEventListener("popstate", function () { post({ type: "sb:page", page: page() }); });

  window.Switchboard = {
    loaded: true,
    open: open,
    close: close,
    identify: function (who) {
      state.identity = who || null;
      post({ type: "sb:identify", identity: state.identity });
    },
    on: function (name, fn) {
      if (listeners[name] && typeof fn === "function") listeners[name].push(fn);
    }
  };

  fetch(base + "/widget/" + encodeURIComponent(site) + "/config", { credentials: "omit" })
    .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
    .then(function (res) {
      if (!res.ok) {
        console.error(res.j && res.j.error || "Switchboard: the chat widget is not available here.");
        return;
      }
      draw(res.j);
    })
    .catch(function () { console.error("Switchboard: could not reach " + base); });

  function draw(cfg) {
    var side = cfg.position === "left" ? "left" : "right";
    var color = /^#[0-9a-f]{3,6}$/i.test(cfg.color) ? cfg.color : "#2563eb";
    var css = document.createElement("style");
    css.textContent =
      ".sb-launch{position:fixed;bottom:20px;" + side + ":20px;z-index:2147483000;width:56px;height:56px;border-radius:50%;border:0;background:" + color + ";color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}" +
      ".sb-launch:focus-visible{outline:3px solid #fbbf24;outline-offset:3px}" +
      ".sb-badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 5px;border-radius:10px;background:#dc2626;color:#fff;font:600 12px/20px system-ui,sans-serif}" +
      ".sb-panel{position:fixed;bottom:88px;" + side + ":20px;z-index:2147483000;width:370px;height:min(600px,calc(100vh - 110px));border-radius:12px;overflow:hidden;box-shadow:0 8px 30px rgba(0,0,0,.3);background:#fff}" +
      ".sb-panel[hidden],.sb-badge[hidden]{display:none}" +
      ".sb-panel iframe{border:0;width:100%;height:100%}" +
      "@media (max-width:480px){.sb-panel{inset:0;width:auto;height:auto;border-radius:0}}";
    document.head.appendChild(css);
    button = document.createElement("button");
    button.type = "button";
    button.className = "sb-launch";
    button.setAttribute("aria-label", typeof cfg.label === "string" && cfg.label ? cfg.label : "Open chat");
    button.setAttribute("aria-expanded", "false");
    button.innerHTML = '<svg width="28" height="28" viewBox="0 0 24 24" fill="currentColor" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';
    badge = document.createElement("span");
    badge.className = "sb-badge";
    badge.hidden = true;
    badge.setAttribute("aria-hidden", "true");
    button.appendChild(badge);
    button.addEventListener("click", function () { state.open ? close() : open(); });
    panel = document.createElement("div");
    panel.className = "sb-panel";
    panel.hidden = true;
    document.body.appendChild(panel);
    document.body.appendChild(button);
    if (script.getAttribute("data-preload") === "idle") {
      (window.requestIdleCallback || setTimeout)(ensureFrame, { timeout: 3000 });
    }
    window.dispatchEvent(new Event("switchboard:ready"));
  }
})();
