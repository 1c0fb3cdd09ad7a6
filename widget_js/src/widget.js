/*
 * The Parley chat widget.
 *
 *   <script src="https://PARLEY_HOST/widget.js" data-site="pk_…" async></script>
 *
 * Everything lives in a shadow root under one <parley-widget> element; the only global is
 * window.Parley (or the name in data-global="…"). Calls made before this file loads (window.Parley =
 * window.Parley || function() {(Parley.q = Parley.q || []).push(arguments)}) are replayed.
 *
 * The server is the truth: every message has an id, pushes carry the id before them (prev_id),
 * and after any gap or reconnect the widget asks for everything after the last id it holds.
 */
/* global __PARLEY_CSS__, __PARLEY_VERSION__ */

const RETRYABLE = new Set(["rate_limited", "not_ready"]);
// 4423: the workspace is suspended. Like the others, no reconnecting (until the next page view); unlike
// them it is for a while only, and what the visitor queued stays queued, to be sent then.
const REFUSED_CODES = new Set([4400, 4403, 4404, 4423]);
const SUSPENDED = "workspace_suspended"; // the HTTP fallback's 403
const BOOTED = Symbol.for("parley.widget"); // one widget per page, whatever its global is called

function uuid4() {
  // crypto.randomUUID needs a secure context; host pages may be plain http.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 15) | 64;
  b[8] = (b[8] & 63) | 128;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// JSON written without JSON.stringify's toJSON hooks, which host pages redefine (Prototype.js turns
// every array into a string); only primitives go through JSON.stringify, which never calls toJSON on them.
function encode(value) {
  if (Array.isArray(value)) return `[${value.map(encode).join()}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).map((key) => `${JSON.stringify(key)}:${encode(value[key])}`).join()}}`;
  }
  return JSON.stringify(value ?? null);
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

function boot(script) {
  const siteKey = script.dataset.site;
  const base = new URL(script.src).origin;
  const storageKey = `parley:${siteKey}`;
  const listeners = { message: [] };

  // --- state (what survives a reload is saved to localStorage)
  const saved = readStorage();
  let token = typeof saved.token === "string" ? saved.token : null;
  let lastId = 0; // a fresh page loads the recent history, then catches up from its newest id
  let unread = saved.unread > 0 ? saved.unread | 0 : 0;
  const outbox = saved.outbox.map(({ client_id, body }) => ({ client_id, body, status: "sending" }));
  const known = new Map();
  let config = { accent_color: "#4f46e5", greeting: "", team_name: "", launcher_position: "right", ask_email_after_seconds: 0 };
  let open = false;
  let ready = false;
  let everReady = false;
  let refused = null;
  let hasEmail = false;
  let hasAgentReply = false;
  let pendingIdentify = null;
  let askTimer = null;
  let askDue = false;
  let reconnectTimer = null;
  let httpQueue = Promise.resolve();
  let typingTimer = null;
  let typingSentAt = 0;
  let typingStopTimer = null;

  // --- transport: a WebSocket, or HTTP (POST + long-poll) where WebSockets fail
  let transport = "ws";
  let socket = null;
  let attempt = 0;
  let wsFailures = 0;
  let hasWebSocket = true; // false once the constructor is missing or throws: no point trying again
  let probe = null; // while on HTTP: a socket trying whether WebSockets work again
  let probeTimer = null;
  let probeDelay = 5000;
  let pollRun = 0; // a poll loop runs while its number is current
  let pollAbort = null;

  // What is stored may be corrupt (or written by an older widget under Prototype.js, with the outbox
  // as a string): keep what is well-formed, drop the rest, never fail.
  function readStorage() {
    const parse = (text) => {
      try {
        return JSON.parse(text);
      } catch {}
    };
    let state = {};
    try {
      state = parse(localStorage.getItem(storageKey)) || {};
    } catch {
      /* storage blocked */
    }
    let list = state.outbox;
    if (typeof list === "string") list = parse(list);
    const valid = (p) => p && typeof p.client_id === "string" && typeof p.body === "string";
    return { token: state.token, unread: state.unread, outbox: Array.isArray(list) ? list.filter(valid) : [] };
  }

  function persist() {
    try {
      const waiting = outbox.filter((p) => p.status !== "failed").map(({ client_id, body }) => ({ client_id, body }));
      localStorage.setItem(storageKey, encode({ token, unread, outbox: waiting }));
    } catch {
      /* storage full or blocked: the session still works, it just won't survive a reload */
    }
  }

  function backoff() {
    const ceiling = Math.min(30000, 500 * 2 ** attempt++);
    return ceiling / 2 + (Math.random() * ceiling) / 2; // jitter: reconnecting visitors don't stampede
  }

  function connect() {
    if (refused) return;
    if (transport === "http") return httpHello();
    openSocket();
  }

  // On WebSockets, the socket. On HTTP, a probe: it takes over only once welcomed, and the welcome
  // catches up from the last id, so stopping the long-poll loses nothing and duplicates nothing.
  function openSocket() {
    const probing = transport === "http";
    let welcomed = false;
    let gone = false;
    let ws;
    try {
      ws = new WebSocket(`${base.replace(/^http/, "ws")}/ws/widget/?site=${encodeURIComponent(siteKey)}`);
    } catch {
      // Missing (window.WebSocket = undefined) or made to throw, as some privacy extensions do.
      hasWebSocket = false;
      transport = "http";
      return probing || httpHello();
    }
    if (probing) probe = ws;
    else socket = ws;
    ws.onopen = () => ws.send(encode({ type: "hello", token, after_id: lastId, page_url: location.href }));
    ws.onmessage = (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (frame.type === "welcome") {
        welcomed = true;
        if (probe === ws) {
          probe = null;
          probeDelay = 5000;
          transport = "ws";
          socket = ws;
          stopPolling();
          receive(frame);
          // The welcome was read before this socket joined its push group: ask once more for what
          // was written in between (the long-poll that would have brought it is gone).
          return transmit({ type: "sync", after_id: lastId });
        }
      }
      if (socket === ws || frame.type === "refused") receive(frame);
    };
    // A socket is lost on its close, on an error (a page's CSP without ws: gets an error and never a
    // close in Chromium), or when no welcome came within seconds; each counts once.
    const lost = (event) => {
      clearTimeout(welcomeTimer);
      if (gone) return;
      gone = true;
      ws.close();
      if (probe === ws) {
        probe = null;
        if (!REFUSED_CODES.has(event.code)) return probeLater();
        stopPolling(); // a probe refused is the chat refused (a suspension, since HTTP got in)
        return refuse(refused);
      }
      if (socket !== ws) return;
      socket = null;
      setReady(false);
      if (REFUSED_CODES.has(event.code)) return refuse(refused);
      if (!welcomed && ++wsFailures >= 3) transport = "http"; // a proxy or a CSP that stops WebSockets
      reconnectLater();
    };
    const welcomeTimer = setTimeout(() => welcomed || lost({}), 5000);
    ws.onerror = ws.onclose = lost;
  }

  // A blip can send the widget to HTTP; try a socket again every 5 s, then less often, up to a minute.
  function probeLater() {
    clearTimeout(probeTimer);
    if (transport !== "http" || !hasWebSocket || probe || refused) return;
    probeTimer = setTimeout(openSocket, probeDelay);
    probeDelay = Math.min(60000, probeDelay * 2);
  }

  function stopPolling() {
    pollRun++;
    if (pollAbort) pollAbort.abort();
  }

  function reconnectLater() {
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(connect, backoff());
  }

  function transmit(frame) {
    if (transport === "ws") {
      if (socket && socket.readyState === 1) socket.send(encode(frame));
      return;
    }
    const action = { message: "messages", identify: "identify" }[frame.type];
    if (!action) return;
    // One request at a time, so messages arrive in the order they were written.
    httpQueue = httpQueue.then(() =>
      request("POST", action, frame)
        .then(receive)
        .catch((error) =>
          error.code === SUSPENDED
            ? refuse(error.message) // not accepted: the message stays queued, not failed
            : receive({ type: "error", code: error.code || "network", message: error.message, client_id: frame.client_id }),
        ),
    );
  }

  async function request(method, action, body, query = "", signal) {
    const response = await fetch(`${base}/widget/api/${action}?site=${encodeURIComponent(siteKey)}${query}`, {
      method,
      signal,
      headers: { "Content-Type": "application/json", ...(token ? { "X-Parley-Visitor": token } : {}) },
      body: body ? encode(body) : undefined,
      credentials: "omit",
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(data.message || `HTTP ${response.status}`);
      Object.assign(error, { status: response.status, code: data.code });
      throw error;
    }
    return data;
  }

  async function httpHello() {
    try {
      receive(await request("POST", "hello", { token, after_id: lastId, page_url: location.href }));
      poll();
    } catch (error) {
      if ([400, 403, 404].includes(error.status)) return refuse(error.message);
      reconnectLater();
    }
  }

  async function poll() {
    const run = ++pollRun;
    while (run === pollRun && transport === "http" && ready && !refused) {
      try {
        pollAbort = new AbortController();
        const answer = await request("GET", "poll", null, `&after=${lastId}`, pollAbort.signal);
        merge(answer.messages, true);
        if (answer.typing) showTyping(answer.typing);
        attempt = 0;
      } catch (error) {
        if (run !== pollRun) return;
        if (error.status === 401) {
          setReady(false); // the server no longer knows this token: say hello again
          return connect();
        }
        if (error.code === SUSPENDED) return refuse(error.message);
        await new Promise((resolve) => setTimeout(resolve, backoff()));
      }
    }
  }

  // --- frames from the server

  function receive(frame) {
    switch (frame.type) {
      case "welcome":
        token = frame.token;
        config = { ...config, ...frame.config };
        hasEmail = frame.has_email;
        hasAgentReply = frame.has_agent_reply;
        attempt = 0;
        wsFailures = 0;
        applyConfig();
        merge(frame.messages, true, true);
        setReady(true);
        askMoreIfCut(frame.messages);
        for (const pending of outbox) if (pending.status !== "failed") transmitMessage(pending);
        if (pendingIdentify) transmit({ type: "identify", ...pendingIdentify });
        probeLater();
        break;
      case "message":
        merge([frame.message], false);
        break;
      case "messages":
        merge(frame.messages, true);
        askMoreIfCut(frame.messages);
        break;
      case "ack": // carries the stored message: the sending socket gets no push of it
        if (frame.message) merge([frame.message], false);
        else settle(frame.client_id, frame.id);
        break;
      case "identified":
        hasEmail = frame.has_email;
        pendingIdentify = null;
        render();
        break;
      case "typing":
        showTyping(frame);
        break;
      case "refused":
        refused = frame.message;
        break;
      case "error":
        failed(frame);
        break;
    }
    persist();
  }

  function merge(messages, contiguous, quiet) {
    let gap = false;
    const fresh = [];
    for (const message of messages || []) {
      if (!contiguous && message.id > lastId && message.prev_id !== null && message.prev_id !== lastId && !known.has(message.prev_id)) {
        gap = true; // a push went missing in between
      }
      if (!known.has(message.id)) {
        known.set(message.id, message);
        fresh.push(message);
      }
      if (message.author_kind === "agent") hasAgentReply = true;
      if (message.client_id) settle(message.client_id, message.id);
      if (contiguous || !gap) lastId = Math.max(lastId, message.id);
    }
    if (gap && transport === "ws") transmit({ type: "sync", after_id: lastId }); // over http the next poll asks
    for (const message of fresh) {
      if (message.author_kind !== "visitor" && !open) unread += 1;
      if (!quiet) for (const fn of listeners.message) safely(fn, message);
    }
    if (fresh.length) render(true);
  }

  function askMoreIfCut(messages) {
    if ((messages || []).length >= 500 && transport === "ws") transmit({ type: "sync", after_id: lastId });
  }

  function settle(clientId, id) {
    const index = outbox.findIndex((p) => p.client_id === clientId);
    if (index >= 0) {
      outbox[index].id = id;
      outbox.splice(index, 1);
      render();
    }
  }

  function failed(frame) {
    const pending = outbox.find((p) => p.client_id === frame.client_id);
    if (pending) {
      pending.status = "failed";
      pending.error = frame.message;
      pending.retryable = RETRYABLE.has(frame.code) || frame.code === "network";
      render();
    } else if (frame.code === "identity_refused") {
      pendingIdentify = null;
      console.warn(`[Parley] identify refused: ${frame.message}`);
    }
  }

  function refuse(message) {
    refused = message || "This chat is not available here.";
    setReady(false);
    console.warn(`[Parley] ${message}`);
    render();
  }

  // --- what the visitor does

  function sendMessage(body) {
    const pending = { client_id: uuid4(), body, status: "sending" };
    outbox.push(pending);
    transmitMessage(pending);
    stopTyping();
    if (config.ask_email_after_seconds > 0 && !hasEmail && !hasAgentReply && !askTimer) {
      askTimer = setTimeout(() => {
        askDue = true;
        render();
      }, config.ask_email_after_seconds * 1000);
    }
    persist();
    render(true);
  }

  function transmitMessage(pending) {
    pending.status = "sending";
    if (ready) transmit({ type: "message", client_id: pending.client_id, body: pending.body });
  }

  function retry(pending) {
    pending.error = "";
    transmitMessage(pending);
    render();
  }

  function typed() {
    if (!ready || transport !== "ws") return;
    const now = Date.now();
    if (now - typingSentAt > 2000) {
      typingSentAt = now;
      transmit({ type: "typing", is_typing: true });
    }
    clearTimeout(typingStopTimer);
    typingStopTimer = setTimeout(stopTyping, 3000);
  }

  function stopTyping() {
    clearTimeout(typingStopTimer);
    if (typingSentAt && ready && transport === "ws") transmit({ type: "typing", is_typing: false });
    typingSentAt = 0;
  }

  function identify(fields) {
    pendingIdentify = { ...pendingIdentify, ...fields };
    if (ready) transmit({ type: "identify", ...pendingIdentify });
  }

  function setReady(value) {
    ready = value;
    if (value) everReady = true;
    render();
  }

  function setOpen(value) {
    open = value;
    if (open) {
      unread = 0;
      fit();
    }
    persist();
    render(true);
    if (open) ui.textarea.focus();
    else ui.launcher.focus();
  }

  function safely(fn, value) {
    try {
      fn(value);
    } catch (error) {
      console.error("[Parley] a message listener failed", error);
    }
  }

  // --- the page element and its shadow root

  const host = document.createElement("parley-widget");
  // Through the CSSOM, which a page's style-src without 'unsafe-inline' allows (a style attribute it blocks).
  host.style.cssText = "all: initial !important; display: block !important; position: static !important;";
  const shadow = host.attachShadow({ mode: "open" });
  const ui = buildUi();

  function buildUi() {
    // A constructed stylesheet is not subject to the page's style-src; a <style> only where there is none.
    const css = __PARLEY_CSS__;
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      shadow.adoptedStyleSheets = [sheet];
    } catch {
      shadow.append(el("style", null, css));
    }
    const root = el("div", "root");
    const launcher = el("button", "launcher");
    launcher.type = "button";
    launcher.innerHTML =
      '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 3C6.5 3 2 6.8 2 11.5c0 2.4 1.2 4.6 3.1 6.1L4.5 21l4-2.1c1.1.3 2.3.5 3.5.5 5.5 0 10-3.8 10-8.5S17.5 3 12 3z"/></svg>';
    const badge = el("span", "badge");
    launcher.append(badge);
    launcher.addEventListener("click", () => setOpen(!open));

    const panel = el("section", "panel");
    panel.setAttribute("role", "dialog");
    panel.hidden = true;
    const header = el("header");
    const title = el("div", "title");
    const name = el("strong");
    const subtitle = el("small", null, "We usually reply in a few minutes");
    title.append(name, subtitle);
    const close = el("button", null, "×");
    close.type = "button";
    close.setAttribute("aria-label", "Close chat");
    close.addEventListener("click", () => setOpen(false));
    header.append(title, close);
    const status = el("div", "status");
    const log = el("div", "log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    const typing = el("div", "typing");
    typing.setAttribute("aria-live", "polite");

    const ask = el("form", "ask");
    const askText = el("span", null, "Get the reply by email, in case you leave:");
    const askInput = el("input");
    Object.assign(askInput, { type: "email", required: true, placeholder: "you@example.com" });
    askInput.setAttribute("aria-label", "Your email");
    const askButton = el("button", null, "Save");
    askButton.type = "submit";
    ask.append(askText, askInput, askButton);
    ask.addEventListener("submit", (event) => {
      event.preventDefault();
      identify({ email: askInput.value.trim() });
      hasEmail = true;
      render();
    });

    const composer = el("form", "composer");
    const textarea = el("textarea");
    textarea.rows = 1;
    textarea.placeholder = "Write a message…";
    textarea.setAttribute("aria-label", "Message");
    textarea.maxLength = 5000;
    const send = el("button", "send", "Send");
    send.type = "submit";
    composer.append(textarea, send);
    const submit = () => {
      const body = textarea.value.trim();
      if (!body) return;
      textarea.value = "";
      sendMessage(body);
    };
    composer.addEventListener("submit", (event) => {
      event.preventDefault();
      submit();
    });
    textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submit();
      }
    });
    textarea.addEventListener("input", typed);
    panel.addEventListener("keydown", (event) => event.key === "Escape" && setOpen(false));

    panel.append(header, status, log, typing, ask, composer);
    root.append(panel, launcher);
    shadow.append(root);
    return { root, launcher, badge, panel, name, status, log, typing, ask, askInput, composer, textarea };
  }

  function applyConfig() {
    ui.root.style.setProperty("--accent", config.accent_color);
    ui.root.classList.toggle("left", config.launcher_position === "left");
    ui.name.textContent = config.team_name;
    ui.panel.setAttribute("aria-label", `Chat with ${config.team_name}`);
  }

  // The panel's size comes from the visible viewport (less the on-screen keyboard), in the widget's own
  // CSS pixels: a page's zoom (html { zoom: 1.5 }) scales them, and would push the header off screen.
  function fit() {
    const view = window.visualViewport || { width: innerWidth, height: innerHeight, offsetTop: 0 };
    const zoom = host.currentCSSZoom || 1;
    for (const [name, value] of [["w", view.width], ["h", view.height], ["top", view.offsetTop]]) {
      ui.root.style.setProperty(`--view-${name}`, `${value / zoom}px`);
    }
  }

  function render(scroll) {
    const { log, badge, panel, launcher, status, ask, composer } = ui;
    panel.hidden = !open;
    ui.root.classList.toggle("open", open);
    launcher.setAttribute("aria-label", open ? "Close chat" : unread ? `Open chat, ${unread} unread` : "Open chat");
    launcher.setAttribute("aria-expanded", String(open));
    badge.hidden = !unread;
    badge.textContent = unread > 9 ? "9+" : String(unread);
    status.hidden = !refused && (ready || !everReady);
    status.textContent = refused ? `Chat unavailable: ${refused}` : "Reconnecting… your messages will be sent when we're back.";
    composer.hidden = Boolean(refused);
    ask.hidden = !askDue || hasEmail || hasAgentReply || Boolean(refused);
    if (!open) return;

    const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    const items = [];
    if (config.greeting) items.push(el("div", "greeting", config.greeting));
    const messages = [...known.values()].sort((a, b) => a.id - b.id);
    for (const message of messages) {
      const at = new Date(message.created_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      items.push(...bubble(message.author_kind, message.body, message.author_name, message.author_kind === "visitor" ? `Sent · ${at}` : at));
    }
    for (const pending of outbox) {
      const waiting = refused ? "Not sent yet: it will be sent when the chat is back" : "Sending…";
      const parts = bubble("visitor", pending.body, "", pending.status === "failed" ? `Not sent: ${pending.error}` : waiting);
      parts[0].classList.add("pending");
      if (pending.status === "failed") {
        parts[0].classList.add("failed");
        const again = el("button", null, "Retry");
        again.type = "button";
        again.addEventListener("click", () => retry(pending));
        parts[1].append(" ", again);
      }
      items.push(...parts);
    }
    log.replaceChildren(...items);
    if (scroll || nearBottom) log.scrollTop = log.scrollHeight;
  }

  function bubble(kind, body, authorName, meta) {
    const node = el("div", `msg ${kind}`);
    if (kind === "agent") {
      const name = authorName || config.team_name;
      const initials = name.split(/\s+/).slice(0, 2).map((word) => word[0] || "").join("").toUpperCase();
      const head = el("span", "head");
      const avatar = el("span", "initials", initials);
      avatar.setAttribute("aria-hidden", "true");
      head.append(avatar, el("span", "who", name));
      node.append(head);
    }
    node.append(document.createTextNode(body));
    return [node, el("div", `meta ${kind}`, meta)];
  }

  function showTyping(event) {
    ui.typing.textContent = event.is_typing ? `${event.name || config.team_name} is typing…` : "";
    clearTimeout(typingTimer);
    if (event.is_typing) typingTimer = setTimeout(() => (ui.typing.textContent = ""), 6000);
  }

  // --- the public API

  function Parley(command, argument, callback) {
    if (command === "open") setOpen(true);
    else if (command === "close") setOpen(false);
    else if (command === "identify") identify(argument || {});
    else if (command === "on" && listeners[argument] && typeof callback === "function") listeners[argument].push(callback);
    else console.warn(`[Parley] unknown command ${command}`);
  }
  Parley.version = __PARLEY_VERSION__;
  // The page may have its own window.Parley: keep it, and say once how to give ours another name.
  const name = script.dataset.global || "Parley";
  const existing = window[name];
  const stub =
    typeof existing === "function" && (Array.isArray(existing.q) || /\.q\b/.test(Function.prototype.toString.call(existing)));
  if (existing && !stub) {
    console.warn(
      `[Parley] window.${name} is the page's own: the chat's API is not there. Add data-global="AnotherName" to the widget's script tag.`,
    );
  } else {
    window[name] = Parley;
  }
  const queued = (stub && existing.q) || [];

  function mount() {
    document.body.append(host);
    applyConfig();
    fit();
    // The on-screen keyboard shrinks and pans the visual viewport without a window resize.
    for (const type of ["resize", "scroll"]) (window.visualViewport || window).addEventListener(type, fit);
    render();
    for (const args of queued) Parley(...args);
    connect();
  }
  window.addEventListener("online", () => {
    if (!ready && !socket && !refused) {
      clearTimeout(reconnectTimer);
      connect();
    }
  });
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
}

const current = document.currentScript;
if (current && current.dataset.site && !window[BOOTED]) {
  window[BOOTED] = true;
  boot(current);
}
