// The live inbox: one WebSocket brings HTML rendered from the page's own partials; htmx does the
// rest. The database is the truth: after a reconnect the page asks for what it missed by id.
(() => {
  "use strict";
  const inbox = document.getElementById("inbox");
  if (!inbox) return;
  const announcer = document.getElementById("inbox-announcer");
  const socketState = document.getElementById("socket-state");
  const baseTitle = document.title.replace(/^\(\d+\) /, "");
  let socket = null;
  let attempts = 0;
  let everOpened = false;
  let refused = false;

  const rows = () => document.getElementById("conversation-rows");
  const openConversation = () => document.querySelector("#conversation-pane .conversation");
  const openConversationId = () => Number(openConversation()?.dataset.conversation) || null;
  const lastMessageId = () => {
    const ids = [...document.querySelectorAll(".thread [data-id]")].map((el) => Number(el.dataset.id));
    return ids.length ? Math.max(...ids) : 0;
  };
  const currentFilters = () => Object.fromEntries(new URLSearchParams(rows()?.dataset.filters || ""));

  // --- the socket

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}${inbox.dataset.socket}`);
    socket.onmessage = (event) => receive(JSON.parse(event.data));
    socket.onclose = () => {
      inbox.dataset.live = "false";
      if (refused) return;
      socketState.hidden = false;
      const delay = Math.min(30000, 500 * 2 ** attempts) * (0.5 + Math.random());
      attempts += 1;
      setTimeout(connect, delay);
    };
  }

  // Going offline: drop the socket at once rather than after TCP gives up; back online: reopen now.
  window.addEventListener("offline", () => socket?.close());
  window.addEventListener("online", () => {
    if (socket?.readyState === WebSocket.CLOSED && !refused) {
      attempts = 0;
      connect();
    }
  });

  // An open inbox keeps its agent online (see inbox/presence.py): a beat well inside the 60 s.
  setInterval(() => send({ type: "beat" }), 25000);
  document.addEventListener("click", (event) => {
    const toggle = event.target.closest("[data-away]");
    if (toggle) send({ type: "away", away: toggle.dataset.away === "true" });
  });

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  }

  function sendView() {
    send({ type: "view", filters: currentFilters(), conversation_id: openConversationId() });
  }

  function receive(frame) {
    switch (frame.type) {
      case "ready":
        attempts = 0;
        inbox.dataset.live = "true";
        socketState.hidden = true;
        sendView();
        if (everOpened) catchUp();
        everOpened = true;
        break;
      case "update":
        applyUpdate(frame);
        break;
      case "typing":
        showTyping(frame);
        break;
      case "mention":
        announcer.textContent = frame.announce;
        showToast(frame.announce, frame.notify.conversation_id);
        notify(frame.notify, true);
        break;
      case "presence":
        document.getElementById("team-presence").outerHTML = frame.html;
        break;
      case "refused":
        refused = true;
        socketState.textContent = frame.message;
        socketState.hidden = false;
        break;
    }
  }

  // Pushes sent while the socket was down are gone; the database has them.
  function catchUp() {
    htmx.ajax("GET", `${inbox.dataset.listUrl}?${new URLSearchParams(currentFilters())}`, {
      target: ".list-body",
      swap: "innerHTML",
    });
    const id = openConversationId();
    if (id) {
      fetch(`/inbox/c/${id}/messages/?after=${lastMessageId()}`, { headers: { "HX-Request": "true" } })
        .then((response) => response.text())
        .then((html) => appendMessages(id, html));
    }
  }

  function applyUpdate(frame) {
    const list = rows();
    const old = document.getElementById(`conversation-row-${frame.conversation_id}`);
    const wasCursor = old?.classList.contains("cursor");
    old?.remove();
    if (frame.row && list) {
      document.getElementById("rows-empty")?.remove();
      list.insertAdjacentHTML("afterbegin", frame.row);
      const row = list.firstElementChild;
      if (wasCursor) row.classList.add("cursor");
      htmx.process(row);
    }
    const head = document.getElementById(`conversation-head-${frame.conversation_id}`);
    if (frame.head && head && !head.contains(document.activeElement)) {
      head.outerHTML = frame.head; // not under the agent's hands: a select they are using stays
      htmx.process(document.getElementById(`conversation-head-${frame.conversation_id}`));
    }
    if (list && !list.querySelector(".conversation-row, .rows-empty, .load-more")) {
      list.insertAdjacentHTML("afterbegin", '<li class="empty rows-empty" id="rows-empty">No conversations here.</li>');
    }
    if (frame.message) appendMessages(frame.conversation_id, frame.message);
    if (frame.counts) showCounts(frame.counts);
    if (frame.announce) announcer.textContent = frame.announce;
    if (frame.notify) notify(frame.notify, false);
  }

  // A browser notification when the tab is hidden (a mention: always, if allowed).
  function notify(what, always) {
    if (!(always || document.hidden) || !("Notification" in window) || Notification.permission !== "granted") return;
    const note = new Notification(what.title, { body: what.body, tag: `conversation-${what.conversation_id}` });
    note.onclick = () => {
      window.focus();
      location.href = `/inbox/c/${what.conversation_id}/`;
    };
  }

  function showToast(text, conversationId) {
    const toast = document.createElement("a");
    toast.className = "toast";
    toast.href = `/inbox/c/${conversationId}/`;
    toast.textContent = text;
    document.body.append(toast);
    setTimeout(() => toast.remove(), 8000);
  }

  function appendMessages(conversationId, html) {
    const thread = document.getElementById(`thread-${conversationId}`);
    if (!thread) return;
    const template = document.createElement("template");
    template.innerHTML = html;
    for (const item of [...template.content.children]) {
      if (document.getElementById(item.id)) continue; // the reply's own response may have brought it
      // In id order, whichever of two agents' replies arrives first.
      const later = [...thread.children].find((el) => Number(el.dataset.id) > Number(item.dataset.id));
      thread.insertBefore(item, later || null);
    }
    thread.scrollTop = thread.scrollHeight;
  }

  function showCounts(counts) {
    for (const tab of ["mine", "unassigned", "all"]) {
      const el = document.getElementById(`count-${tab}`);
      if (el) el.textContent = counts[tab];
    }
    document.title = counts.unread ? `(${counts.unread}) ${baseTitle}` : baseTitle;
  }

  let typingTimer = null;
  function showTyping(frame) {
    const line = document.getElementById(`typing-${frame.conversation_id}`);
    if (!line) return;
    clearTimeout(typingTimer);
    line.hidden = !frame.is_typing;
    line.textContent = frame.is_typing ? "The visitor is typing…" : "";
    if (frame.is_typing) typingTimer = setTimeout(() => (line.hidden = true), 6000);
  }

  // --- htmx: keep the socket's view and the layout in step with what is on screen

  document.body.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    if (target.id === "conversation-pane") {
      inbox.classList.add("has-conversation");
      const id = openConversationId();
      document.querySelectorAll(".conversation-row").forEach((row) => {
        const selected = Number(row.dataset.conversation) === id;
        row.classList.toggle("selected", selected);
        row.setAttribute("aria-selected", String(selected));
        if (selected) row.classList.remove("unread");
      });
      const thread = document.querySelector(".thread");
      if (thread) thread.scrollTop = thread.scrollHeight;
    }
    if (target.id === "conversation-pane" || target.classList.contains("list-body")) sendView();
  });

  document.body.addEventListener("htmx:beforeSwap", (event) => {
    const form = event.detail.requestConfig?.elt;
    if (form?.id === "composer" && event.detail.xhr.status === 200) {
      // The socket may have brought this reply first; either way it goes in id order.
      appendMessages(openConversationId(), event.detail.serverResponse);
      event.detail.shouldSwap = false;
    }
    if (event.detail.xhr.status === 422) {
      event.detail.shouldSwap = true;
      event.detail.target = document.getElementById("composer-error") || event.detail.target;
      if (!form?.closest?.("#composer")) {
        event.detail.shouldSwap = false;
        alert(event.detail.xhr.responseText);
      }
    }
  });

  document.body.addEventListener("htmx:configRequest", (event) => {
    const form = event.detail.elt;
    if (form.id === "composer") {
      event.detail.parameters.client_id = crypto.randomUUID ? crypto.randomUUID() : String(Date.now() + Math.random());
    }
  });

  document.body.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt;
    if (form.id === "composer" && event.detail.successful) {
      form.reset();
      form.classList.remove("note-mode");
      document.getElementById("composer-error").textContent = "";
      send({ type: "typing", conversation_id: openConversationId(), is_typing: false });
      form.querySelector("textarea").focus();
    }
  });

  // On a phone the list sits under the open conversation: going back shows it again, as it was.
  document.addEventListener("click", (event) => {
    if (!event.target.closest(".back-link")) return;
    event.preventDefault();
    inbox.classList.remove("has-conversation");
    history.pushState({}, "", `/inbox/?${new URLSearchParams(currentFilters())}`);
  });

  // --- the composer: Enter sends, Shift+Enter is a new line; typing reaches the visitor

  let lastTyping = 0;
  document.addEventListener("keydown", (event) => {
    const area = event.target.closest?.("#composer textarea");
    if (area && suggestionKey(event, area)) return;
    if (area && event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (area.value.trim()) area.form.requestSubmit();
    }
  });
  document.addEventListener("input", (event) => {
    const area = event.target.closest?.("#composer textarea");
    if (area) showSuggestions(area);
    if (!area || area.form.kind.value === "note") return;
    if (Date.now() - lastTyping > 2000) {
      lastTyping = Date.now();
      send({ type: "typing", conversation_id: openConversationId(), is_typing: true });
    }
  });
  document.addEventListener("change", (event) => {
    if (event.target.name === "kind" && event.target.closest("#composer")) {
      event.target.form.classList.toggle("note-mode", event.target.value === "note");
    }
  });

  // --- suggestions under the composer: "/" and a shortcut (at the start or after a space) inserts a
  // canned response in its place; "@" in a note names a teammate (who is then notified)

  let canned = null; // one request, however fast the agent types
  const CANNED_TYPED = /(?:^|\s)\/([\w-]*)$/;
  async function cannedSuggestions(area, menu) {
    if (!CANNED_TYPED.test(area.value.slice(0, area.selectionStart))) return [];
    canned ??= fetch(menu.dataset.url).then((response) => response.json()).then((data) => data.canned);
    const all = await canned;
    const before = area.value.slice(0, area.selectionStart); // what is in the box now, after the wait
    const match = CANNED_TYPED.exec(before);
    if (!match) return [];
    if (!all.length) {
      // None yet: say where they are made, rather than show nothing.
      const where = menu.dataset.addUrl ? "add them in Labels & replies" : "an owner or admin adds them";
      return [{ label: "/", detail: `No canned responses yet: ${where}.`, hint: true, apply: () => {} }];
    }
    return all
      .filter((c) => c.shortcut.startsWith(match[1].toLowerCase()))
      .map((c) => ({
        label: `/${c.shortcut}`,
        detail: c.body,
        apply: () => {
          const start = before.length - match[1].length - 1;
          area.value = `${area.value.slice(0, start)}${c.body}${area.value.slice(area.selectionStart)}`;
          area.selectionStart = area.selectionEnd = start + c.body.length;
        },
      }));
  }

  function mentionSuggestions(area) {
    if (area.form.kind.value !== "note") return [];
    const before = area.value.slice(0, area.selectionStart);
    const match = /(?:^|\s)@([\w.-]*)$/.exec(before);
    if (!match) return [];
    const members = JSON.parse(area.form.dataset.members || "[]");
    const typed = match[1].toLowerCase();
    return members
      .filter((m) => m.handle.startsWith(typed) || m.name.toLowerCase().startsWith(typed))
      .map((m) => ({
        label: `@${m.handle}`,
        detail: m.name,
        apply: () => {
          const start = before.length - match[1].length - 1;
          area.value = `${area.value.slice(0, start)}@${m.handle} ${area.value.slice(area.selectionStart)}`;
          area.selectionStart = area.selectionEnd = start + m.handle.length + 2;
        },
      }));
  }

  async function showSuggestions(area) {
    const menu = document.getElementById("canned-menu");
    if (!menu) return;
    const found = [...mentionSuggestions(area), ...(await cannedSuggestions(area, menu))].slice(0, 8);
    menu.replaceChildren(
      ...found.map((suggestion, i) => {
        const item = document.createElement("li");
        item.id = `suggestion-${i}`;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", String(i === 0));
        if (suggestion.hint) item.setAttribute("aria-disabled", "true");
        const label = document.createElement("span");
        label.className = "mono";
        label.textContent = suggestion.label;
        const detail = suggestion.detail.length > 80 ? `${suggestion.detail.slice(0, 80)}…` : suggestion.detail;
        item.append(label, detail);
        item.apply = () => {
          suggestion.apply();
          menu.hidden = true;
          area.focus();
        };
        item.addEventListener("mousedown", (event) => {
          event.preventDefault();
          item.apply();
        });
        return item;
      }),
    );
    menu.hidden = found.length === 0;
  }

  function suggestionKey(event, area) {
    const menu = document.getElementById("canned-menu");
    if (!menu || menu.hidden) return false;
    const items = [...menu.children];
    const current = items.findIndex((item) => item.getAttribute("aria-selected") === "true");
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const next = (current + (event.key === "ArrowDown" ? 1 : -1) + items.length) % items.length;
      items.forEach((item, i) => item.setAttribute("aria-selected", String(i === next)));
      area.setAttribute("aria-activedescendant", items[next].id);
    } else if (event.key === "Enter" || event.key === "Tab") {
      items[Math.max(0, current)].apply();
    } else if (event.key === "Escape") {
      menu.hidden = true;
    } else {
      return false;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
    return true;
  }

  // --- keyboard: j/k move, Enter opens, r reply, n note, e resolve, a assign to me, ? help

  function moveCursor(step) {
    const all = [...document.querySelectorAll(".conversation-row")];
    if (!all.length) return;
    const current = all.findIndex((row) => row.classList.contains("cursor"));
    const start = current >= 0 ? current : all.findIndex((row) => row.classList.contains("selected"));
    const next = all[Math.max(0, Math.min(all.length - 1, start + step))] || all[0];
    all.forEach((row) => row.classList.remove("cursor"));
    next.classList.add("cursor");
    next.querySelector("a").focus();
  }

  function focusComposer(kind) {
    const form = document.getElementById("composer");
    if (!form) return;
    form.querySelector(`input[name=kind][value=${kind}]`).checked = true;
    form.classList.toggle("note-mode", kind === "note");
    form.querySelector("textarea").focus();
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const typing = event.target.closest?.("input, textarea, select, [contenteditable]");
    if (typing) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    const actions = {
      j: () => moveCursor(1),
      k: () => moveCursor(-1),
      r: () => focusComposer("reply"),
      n: () => focusComposer("note"),
      e: () => document.querySelector("[data-shortcut=e]")?.click(),
      a: () => document.querySelector("[data-shortcut=a]")?.click(),
      "?": () => document.getElementById("shortcuts").showModal(),
    };
    // Enter on a button or link (the phone menu's, say) is that control's own, not "open the row".
    if (event.key === "Enter" && event.target.closest?.("a, button, summary")) return;
    if (event.key === "Enter" && document.querySelector(".conversation-row.cursor")) {
      event.preventDefault();
      document.querySelector(".conversation-row.cursor a").click();
    } else if (actions[event.key]) {
      event.preventDefault();
      actions[event.key]();
    }
  });

  // Browser notifications need a permission, asked for on a gesture.
  document.addEventListener(
    "click",
    () => {
      if ("Notification" in window && Notification.permission === "default") Notification.requestPermission();
    },
    { once: true },
  );

  // A conversation opened by its address starts at its newest message, as one opened from the list
  // does (afterSwap): on a phone the oldest would fill the screen.
  const openThread = document.querySelector(".thread");
  if (openThread) openThread.scrollTop = openThread.scrollHeight;

  connect();
})();
