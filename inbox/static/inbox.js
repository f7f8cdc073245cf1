// The web inbox's one script: live updates over server-sent events, sending
// without a reload, drafts kept per conversation, keyboard shortcuts.
// Every page works without it; it only makes them instant. Markup always comes
// from the server (fragments rendered by the page's own templates), or is
// built here with textContent, so nothing a contact wrote is ever parsed as HTML.

const app = document.querySelector(".app");
const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content || "";
const openId = app?.dataset.conversation || "";
const OFFLINE_BANNER_DELAY_MS = 4000;
const NEAR_BOTTOM_PX = 80;
const NEAR_TOP_PX = 120;
const DRAFT_PREFIX = "inbox:draft:";
const KEY_SEQUENCE_MS = 1200;
const READ_DEBOUNCE_MS = 400;

// ---------------------------------------------------------------- helpers
class ApiError extends Error {
  constructor(message, code, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

async function request(method, url, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken;
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = data?.error || {};
    throw new ApiError(error.message || `the server answered ${response.status}`, error.code, response.status);
  }
  return data;
}

function toast(text, kind = "notice") {
  const box = document.getElementById("toasts");
  if (!box) return;
  const item = document.createElement("div");
  item.className = `toast ${kind}`;
  item.textContent = text;
  box.append(item);
  setTimeout(() => item.remove(), kind === "error" ? 8000 : 4000);
}

function htmlToNodes(html) {
  const template = document.createElement("template");
  template.innerHTML = html.trim();
  return [...template.content.children];
}

function pad(value) {
  return String(value).padStart(2, "0");
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

function formatTime(date, style) {
  const now = new Date();
  const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  if (style === "clock") return clock;
  if (style === "list" && sameDay(date, now)) return clock;
  const day = `${date.getDate()} ${MONTHS[date.getMonth()]}`;
  return date.getFullYear() === now.getFullYear() ? day : `${day} ${date.getFullYear()}`;
}

function dayLabel(date) {
  const now = new Date();
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (sameDay(date, now)) return "Today";
  if (sameDay(date, yesterday)) return "Yesterday";
  return `${date.getDate()} ${MONTHS[date.getMonth()]} ${date.getFullYear()}`;
}

// Server times are UTC; show them in the reader's own time zone.
function localizeTimes(root = document) {
  for (const node of root.querySelectorAll("time[datetime][data-format]")) {
    const date = new Date(node.getAttribute("datetime"));
    if (!Number.isNaN(date.getTime())) {
      node.textContent = formatTime(date, node.dataset.format);
      node.title = date.toLocaleString();
    }
  }
}

function isTyping(target) {
  return target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

// ---------------------------------------------------------------- every page
function wireCommonControls() {
  document.addEventListener("change", (event) => {
    const field = event.target;
    if (field instanceof HTMLSelectElement && field.hasAttribute("data-autosubmit")) {
      field.form?.requestSubmit();
    }
  });
  document.addEventListener("click", async (event) => {
    const copy = event.target.closest("[data-copy]");
    if (copy) {
      const input = document.getElementById(copy.dataset.copy);
      if (!input) return;
      input.select();
      try {
        await navigator.clipboard.writeText(input.value);
        toast("Copied");
      } catch {
        toast("Press Ctrl+C to copy the selected text");
      }
      return;
    }
    if (event.target.closest('[data-action="help"]')) openHelp();
  });
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  localizeTimes();
}

function openHelp() {
  const dialog = document.getElementById("help");
  if (dialog && !dialog.open) dialog.showModal();
}

// ---------------------------------------------------------------- keyboard
let pendingG = 0;

function conversationLinks() {
  return [...document.querySelectorAll("#conv-list .conv-item > a")];
}

function moveSelection(step) {
  const links = conversationLinks();
  if (!links.length) return;
  const focused = links.indexOf(document.activeElement);
  const current = focused >= 0 ? focused : links.findIndex((a) => a.getAttribute("aria-current") === "true");
  const next = Math.min(links.length - 1, Math.max(0, current + step));
  links[current < 0 ? 0 : next].focus();
  links[current < 0 ? 0 : next].scrollIntoView({ block: "nearest" });
}

function onKeyDown(event) {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (isTyping(target)) {
    if (event.key === "Escape") {
      if (target.id === "reply-text" && composer?.menuOpen()) return;
      target.blur();
    }
    return;
  }
  if (document.querySelector("dialog[open]")) return;
  const key = event.key;
  if (pendingG && Date.now() - pendingG < KEY_SEQUENCE_MS) {
    pendingG = 0;
    const destination = { i: "/inbox", c: "/contacts", s: "/settings" }[key];
    if (destination) {
      event.preventDefault();
      window.location.assign(destination);
    }
    return;
  }
  switch (key) {
    case "g":
      pendingG = Date.now();
      return;
    case "?":
      event.preventDefault();
      openHelp();
      return;
    case "j":
      event.preventDefault();
      moveSelection(1);
      return;
    case "k":
      event.preventDefault();
      moveSelection(-1);
      return;
    case "/": {
      const search = document.getElementById("f-q") || document.getElementById("contact-q");
      if (search) {
        event.preventDefault();
        search.focus();
        search.select();
      }
      return;
    }
    case "r":
      if (composer) {
        event.preventDefault();
        composer.focus("reply");
      }
      return;
    case "n":
      if (composer) {
        event.preventDefault();
        composer.focus("note");
      }
      return;
    case "e":
      if (openId) {
        event.preventDefault();
        thread.toggleResolved();
      }
      return;
    case "a":
      if (openId) {
        event.preventDefault();
        thread.assignToMe();
      }
      return;
    default:
  }
}

// ---------------------------------------------------------------- the list
const list = {
  element: document.getElementById("conv-list"),
  loading: false,

  filterQuery(extra = {}) {
    const params = new URLSearchParams(window.location.search);
    for (const name of ["cursor", "before", "pane", "mode"]) params.delete(name);
    if (openId) params.set("selected", openId);
    for (const [name, value] of Object.entries(extra)) params.set(name, value);
    return params.toString();
  },

  async refresh(conversationId) {
    if (!this.element || !conversationId) return;
    let data;
    try {
      data = await request("GET", `/inbox/fragments/conversation/${conversationId}?${this.filterQuery()}`);
    } catch {
      return;
    }
    const existing = document.getElementById(`c-${conversationId}`);
    if (!data.matches) {
      existing?.remove();
      return;
    }
    const [item] = htmlToNodes(data.html);
    localizeTimes(item);
    const hadFocus = existing?.contains(document.activeElement);
    existing?.remove();
    this.insertSorted(item);
    document.getElementById("list-empty")?.remove();
    if (hadFocus) item.querySelector("a")?.focus({ preventScroll: true });
  },

  // Newest activity first, as the server orders it; keep the scroll position.
  insertSorted(item) {
    const scroller = document.getElementById("list-scroll");
    const before = scroller?.scrollHeight || 0;
    const last = item.dataset.last || "";
    const next = [...this.element.children].find((other) => (other.dataset.last || "") < last);
    if (next) next.before(item);
    else if (!document.getElementById("list-more")) this.element.append(item);
    else return;
    if (scroller && scroller.scrollTop > 0 && item.offsetTop < scroller.scrollTop) {
      scroller.scrollTop += scroller.scrollHeight - before;
    }
  },

  async loadMore() {
    const more = document.getElementById("list-more");
    if (!more || this.loading) return;
    this.loading = true;
    const skeleton = document.createElement("div");
    skeleton.className = "skeleton";
    skeleton.setAttribute("aria-hidden", "true");
    more.before(skeleton);
    try {
      const data = await request("GET", `/inbox/fragments/list?${this.filterQuery({ cursor: more.dataset.cursor })}`);
      for (const item of htmlToNodes(data.html)) {
        if (!document.getElementById(item.id)) {
          localizeTimes(item);
          this.element.append(item);
        }
      }
      if (data.next_cursor) more.dataset.cursor = data.next_cursor;
      else more.remove();
    } catch (error) {
      toast(error.message, "error");
    } finally {
      skeleton.remove();
      this.loading = false;
    }
  },

  wire() {
    const more = document.getElementById("list-more");
    if (!more) return;
    more.addEventListener("click", (event) => {
      event.preventDefault();
      this.loadMore();
    });
    new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) this.loadMore();
    }, { root: document.getElementById("list-scroll") }).observe(more);
  },
};

// ---------------------------------------------------------------- the thread
const thread = {
  scroller: document.getElementById("thread-scroll"),
  messages: document.getElementById("messages"),
  pill: document.getElementById("new-pill"),
  loadingOlder: false,
  readTimer: 0,

  nearBottom() {
    const s = this.scroller;
    return !s || s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
  },

  scrollToBottom() {
    if (this.scroller) this.scroller.scrollTop = this.scroller.scrollHeight;
    if (this.pill) this.pill.hidden = true;
  },

  lastDay() {
    const items = this.messages?.querySelectorAll("[data-created]");
    const last = items?.[items.length - 1];
    return last ? new Date(last.dataset.created) : null;
  },

  // Append a message or note at the end, with a day separator when the day changes.
  append(node) {
    const created = node.dataset.created ? new Date(node.dataset.created) : new Date();
    const previous = this.lastDay();
    if (!previous || !sameDay(previous, created)) {
      const separator = document.createElement("li");
      separator.className = "day";
      separator.setAttribute("role", "separator");
      separator.textContent = dayLabel(created);
      this.messages.append(separator);
    }
    const stick = this.nearBottom();
    localizeTimes(node);
    this.messages.append(node);
    if (stick) this.scrollToBottom();
    else if (this.pill) this.pill.hidden = false;
  },

  async showMessage(messageId) {
    if (!this.messages) return;
    let data;
    try {
      data = await request("GET", `/inbox/fragments/message/${messageId}`);
    } catch {
      return;
    }
    if (data.conversation_id !== openId) return;
    const [node] = htmlToNodes(data.html);
    const existing = document.getElementById(`m-${messageId}`);
    if (existing) {
      localizeTimes(node);
      existing.replaceWith(node);
      return;
    }
    const optimistic = this.messages.querySelector(`[data-pending="${messageId}"]`);
    if (optimistic) {
      localizeTimes(node);
      optimistic.replaceWith(node);
      return;
    }
    this.append(node);
    this.markRead();
  },

  async updateMessage(messageId) {
    if (document.getElementById(`m-${messageId}`)) await this.showMessage(messageId);
  },

  markRead() {
    if (!openId || document.visibilityState !== "visible") return;
    clearTimeout(this.readTimer);
    this.readTimer = setTimeout(() => {
      request("POST", `/api/v1/conversations/${openId}/read`).catch(() => {});
    }, READ_DEBOUNCE_MS);
  },

  async refreshHead() {
    const head = document.getElementById("thread-head");
    if (!head) return;
    try {
      const here = window.location.pathname + window.location.search;
      const params = new URLSearchParams(list.filterQuery());
      params.set("here", here);
      const data = await request("GET", `/inbox/fragments/head/${openId}?${params}`);
      const [node] = htmlToNodes(data.html);
      const focusedName = document.activeElement?.closest("#thread-head") ? document.activeElement.name : null;
      head.replaceWith(node);
      if (focusedName) node.querySelector(`[name="${focusedName}"]`)?.focus();
    } catch {
      // The next event will try again.
    }
  },

  async refreshNotes() {
    const notes = this.messages?.querySelectorAll(".msg.note[data-created]");
    const after = notes?.length ? notes[notes.length - 1].dataset.created : "";
    try {
      const data = await request("GET", `/inbox/fragments/notes/${openId}?after=${encodeURIComponent(after)}`);
      for (const node of htmlToNodes(data.html)) {
        if (!document.getElementById(node.id)) this.append(node);
      }
    } catch {
      // Not worth a toast: the notes show on the next visit.
    }
  },

  async patch(changes, done) {
    try {
      await request("PATCH", `/api/v1/conversations/${openId}`, changes);
      await this.refreshHead();
      toast(done);
      await list.refresh(openId);
    } catch (error) {
      toast(error.message, "error");
    }
  },

  toggleResolved() {
    const status = document.querySelector('[data-status-form] input[name="status"]')?.value || "resolved";
    this.patch({ status }, status === "resolved" ? "Resolved" : "Reopened");
  },

  assignToMe() {
    this.patch({ assignee_id: app.dataset.user }, "Assigned to you");
  },

  // The latest page of messages: add what this page lacks, and update the ticks
  // that changed (a read receipt can cover many messages in one event).
  async catchUp() {
    try {
      const data = await request("GET", `/inbox/fragments/older/${openId}`);
      for (const node of htmlToNodes(data.html)) {
        const existing = document.getElementById(node.id);
        if (!existing) {
          const optimistic = this.messages.querySelector(`[data-pending="${node.dataset.id}"]`);
          if (optimistic) {
            localizeTimes(node);
            optimistic.replaceWith(node);
          } else {
            this.append(node);
          }
        } else if (existing.dataset.status !== node.dataset.status) {
          localizeTimes(node);
          existing.replaceWith(node);
        }
      }
    } catch {
      // The page still works; a reload shows everything.
    }
  },

  hasPendingTicks() {
    return Boolean(this.messages?.querySelector(
      '.msg.outbound[data-status="queued"], .msg.outbound[data-status="sent"], ' +
      '.msg.outbound[data-status="delivered"], [data-pending]'));
  },

  async loadOlder() {
    const more = document.getElementById("thread-more");
    if (!more || this.loadingOlder) return;
    this.loadingOlder = true;
    try {
      const data = await request("GET", `/inbox/fragments/older/${openId}?before=${encodeURIComponent(more.dataset.cursor)}`);
      const height = this.scroller.scrollHeight;
      const first = this.messages.firstElementChild;
      for (const node of htmlToNodes(data.html)) {
        if (!document.getElementById(node.id)) {
          localizeTimes(node);
          this.messages.insertBefore(node, first);
        }
      }
      this.scroller.scrollTop += this.scroller.scrollHeight - height;
      if (data.next_cursor) more.dataset.cursor = data.next_cursor;
      else more.remove();
    } catch (error) {
      toast(error.message, "error");
    } finally {
      this.loadingOlder = false;
    }
  },

  wire() {
    if (!this.scroller) return;
    if (!new URLSearchParams(window.location.search).has("before")) this.scrollToBottom();
    this.scroller.addEventListener("scroll", () => {
      if (this.nearBottom() && this.pill) this.pill.hidden = true;
      if (this.scroller.scrollTop < NEAR_TOP_PX) this.loadOlder();
    }, { passive: true });
    this.pill?.addEventListener("click", () => this.scrollToBottom());
    document.getElementById("thread-more")?.addEventListener("click", (event) => {
      event.preventDefault();
      this.loadOlder();
    });
    // Thread header forms: change through the API, no reload.
    document.addEventListener("submit", (event) => {
      const form = event.target;
      if (!form.closest("#thread-head")) return;
      event.preventDefault();
      const data = new FormData(form);
      if (form.matches("[data-status-form]")) {
        this.toggleResolved();
      } else if (form.matches("[data-assign], [data-assign-me]")) {
        const value = data.get("assignee_id");
        this.patch({ assignee_id: value || null }, value ? "Assigned" : "Unassigned");
      }
    });
    document.addEventListener("visibilitychange", () => this.markRead());
  },
};

// ---------------------------------------------------------------- the composer
const composer = (() => {
  const form = document.getElementById("composer");
  if (!form || !openId) return null;
  const textarea = document.getElementById("reply-text");
  const menu = document.getElementById("canned-menu");
  const windowOpen = form.dataset.windowOpen === "true";
  const draftKey = DRAFT_PREFIX + openId;
  let active = -1;

  const mode = () => form.querySelector('input[name="mode"]:checked')?.value || "reply";

  function setMode(value) {
    const radio = form.querySelector(`input[name="mode"][value="${value}"]`);
    if (radio) radio.checked = true;
    form.classList.toggle("note-mode", value === "note");
    textarea.placeholder = value === "note"
      ? "Private note: only your team sees it (Enter to save)"
      : windowOpen
        ? "Reply… (Enter to send, Shift+Enter for a new line, / for canned responses)"
        : "The 24-hour window is closed: send a template below, or write a note";
  }

  function saveDraft() {
    try {
      if (textarea.value) localStorage.setItem(draftKey, JSON.stringify({ text: textarea.value, mode: mode() }));
      else localStorage.removeItem(draftKey);
    } catch {
      // Storage full or disabled: the draft only lives in the page then.
    }
  }

  function restoreDraft() {
    try {
      const saved = JSON.parse(localStorage.getItem(draftKey) || "null");
      if (saved?.text) {
        textarea.value = saved.text;
        setMode(saved.mode === "note" ? "note" : "reply");
        return;
      }
    } catch {
      localStorage.removeItem(draftKey);
    }
    setMode(windowOpen ? mode() : "note");
  }

  // -- canned responses: "/" then the shortcut
  function options() {
    return [...menu.querySelectorAll('[role="option"]')];
  }

  function menuOpen() {
    return menu && !menu.hidden;
  }

  function closeMenu() {
    if (!menu) return;
    menu.hidden = true;
    active = -1;
    textarea.removeAttribute("aria-activedescendant");
  }

  function highlight(index) {
    const visible = options().filter((o) => !o.hidden);
    visible.forEach((o, i) => o.setAttribute("aria-selected", String(i === index)));
    active = index;
    if (visible[index]) {
      textarea.setAttribute("aria-activedescendant", visible[index].id);
      visible[index].scrollIntoView({ block: "nearest" });
    }
  }

  function filterMenu() {
    if (!menu || !options().length) return;
    const match = /^\/(\S*)$/.exec(textarea.value);
    if (!match || mode() === "note") {
      closeMenu();
      return;
    }
    const term = match[1].toLowerCase();
    let shown = 0;
    for (const option of options()) {
      option.hidden = !option.dataset.shortcut.toLowerCase().includes(term);
      if (!option.hidden) shown += 1;
    }
    menu.hidden = shown === 0;
    highlight(shown ? 0 : -1);
  }

  function choose(option) {
    textarea.value = option.dataset.text;
    closeMenu();
    textarea.focus();
    saveDraft();
  }

  // -- sending
  function optimisticMessage(text, isNote) {
    const item = document.createElement("li");
    item.className = isNote ? "msg note" : "msg outbound";
    item.dataset.created = new Date().toISOString();
    if (isNote) {
      const label = document.createElement("span");
      label.className = "note-label";
      label.textContent = "Private note · you";
      item.append(label);
    }
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.dir = "auto";
    bubble.textContent = text;
    const info = document.createElement("div");
    info.className = "info";
    const time = document.createElement("time");
    time.textContent = formatTime(new Date(), "clock");
    info.append(time);
    if (!isNote) {
      const ticks = document.getElementById("tpl-queued")?.content.cloneNode(true);
      if (ticks) info.append(" ", ticks);
    }
    item.append(bubble, info);
    return item;
  }

  async function send() {
    const text = textarea.value;
    if (!text.trim()) return;
    const isNote = mode() === "note";
    if (!isNote && !windowOpen) {
      toast("The WhatsApp 24-hour window is closed: send a template instead.", "error");
      return;
    }
    const pending = optimisticMessage(text, isNote);
    thread.append(pending);
    thread.scrollToBottom();
    textarea.value = "";
    closeMenu();
    try { localStorage.removeItem(draftKey); } catch { /* ignore */ }
    try {
      if (isNote) {
        const note = await request("POST", `/api/v1/conversations/${openId}/notes`, { text });
        if (document.getElementById(`n-${note.id}`)) {
          pending.remove();  // the live update was quicker
          return;
        }
        pending.id = `n-${note.id}`;
        pending.dataset.note = note.id;
        pending.dataset.created = note.created_at;
      } else {
        const message = await request("POST", `/api/v1/conversations/${openId}/messages`, { text });
        if (document.getElementById(`m-${message.id}`)) pending.remove();
        else {
          pending.dataset.pending = message.id;
          // The live event may have been missed while the request ran.
          thread.showMessage(message.id);
        }
      }
    } catch (error) {
      pending.classList.add("failed");
      const failure = document.createElement("div");
      failure.className = "failure";
      failure.setAttribute("role", "alert");
      failure.textContent = `Not sent: ${error.message}`;
      pending.append(failure);
      if (!textarea.value) {
        textarea.value = text;
        saveDraft();
      }
      toast(error.message, "error");
    }
  }

  function wire() {
    restoreDraft();
    form.addEventListener("change", (event) => {
      if (event.target.name === "mode") {
        setMode(event.target.value);
        saveDraft();
        textarea.focus();
      }
    });
    textarea.addEventListener("input", () => {
      saveDraft();
      filterMenu();
    });
    textarea.addEventListener("keydown", (event) => {
      if (menuOpen()) {
        const visible = options().filter((o) => !o.hidden);
        if (event.key === "ArrowDown" || event.key === "ArrowUp") {
          event.preventDefault();
          const step = event.key === "ArrowDown" ? 1 : -1;
          highlight((active + step + visible.length) % visible.length);
          return;
        }
        if ((event.key === "Enter" || event.key === "Tab") && visible[active]) {
          event.preventDefault();
          choose(visible[active]);
          return;
        }
        if (event.key === "Escape") {
          event.preventDefault();
          closeMenu();
          return;
        }
      }
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        send();
      }
    });
    menu?.addEventListener("mousedown", (event) => {
      const option = event.target.closest('[role="option"]');
      if (option) {
        event.preventDefault();
        choose(option);
      }
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      send();
    });
    const templateForm = document.querySelector("[data-template-form]");
    templateForm?.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = new FormData(templateForm);
      const raw = String(data.get("variables") || "");
      const parts = raw.split(raw.includes("\n") ? "\n" : "|").map((p) => p.trim()).filter(Boolean);
      const variables = Object.fromEntries(parts.map((value, index) => [String(index + 1), value]));
      try {
        const message = await request("POST", `/api/v1/conversations/${openId}/messages`, {
          template: String(data.get("template") || "").trim(),
          variables: parts.length ? variables : undefined,
        });
        toast("Template queued");
        thread.showMessage(message.id);
      } catch (error) {
        toast(error.message, "error");
      }
    });
  }

  wire();
  return {
    focus(value) {
      setMode(value);
      textarea.focus();
    },
    menuOpen,
  };
})();

// ---------------------------------------------------------------- live events
function connectLive() {
  if (!app || !csrfToken || typeof EventSource === "undefined") return;
  let offlineTimer = 0;
  let source = null;
  let reconnects = 0;
  const banner = document.getElementById("offline");

  const handlers = {
    "message.created": (data) => {
      const conversationId = data.conversation_id;
      if (conversationId === openId) thread.showMessage(data.id);
      list.refresh(conversationId);
    },
    "message.updated": (data) => {
      thread.updateMessage(data.id);
    },
    "conversation.updated": (data) => {
      const conversationId = data.conversation_id || data.id;
      list.refresh(conversationId);
      if (conversationId === openId) {
        thread.refreshHead();
        thread.refreshNotes();
        if (thread.hasPendingTicks()) thread.catchUp();
      }
    },
  };

  function open() {
    source = new EventSource("/api/v1/events");
    source.addEventListener("open", () => {
      clearTimeout(offlineTimer);
      offlineTimer = 0;
      if (banner) banner.hidden = true;
      if (reconnects > 0) resync();
    });
    source.addEventListener("error", () => {
      if (!offlineTimer) {
        offlineTimer = setTimeout(() => {
          if (banner) banner.hidden = false;
        }, OFFLINE_BANNER_DELAY_MS);
      }
      // CLOSED: the server refused (signed out?) or the browser gave up: retry later.
      if (source.readyState === EventSource.CLOSED) {
        reconnects += 1;
        setTimeout(open, Math.min(30000, 1000 * 2 ** Math.min(reconnects, 5)));
      }
    });
    for (const [type, handle] of Object.entries(handlers)) {
      source.addEventListener(type, (event) => {
        try {
          handle(JSON.parse(event.data));
        } catch {
          // A malformed event is skipped; the next one carries on.
        }
      });
    }
  }

  // After a fresh connection (no Last-Event-ID), catch up on what was missed.
  async function resync() {
    try {
      const data = await request("GET", `/inbox/fragments/list?${list.filterQuery()}`);
      for (const item of htmlToNodes(data.html)) list.refresh(item.dataset.id);
    } catch {
      // Try again on the next reconnect.
    }
    if (openId) {
      thread.refreshNotes();
      thread.catchUp();
    }
  }

  open();
  window.addEventListener("beforeunload", () => source?.close());
}

// ---------------------------------------------------------------- start
wireCommonControls();
document.addEventListener("keydown", onKeyDown);
list.wire();
if (openId) {
  thread.wire();
  thread.markRead();
}
if (document.getElementById("conv-list") || openId) connectLive();
