// The open conversation's thread: messages and notes appended or replaced in
// place, older pages loaded above without moving the reader, the header's forms
// sent through the API, and the conversation marked read while it is in view.

import { request } from "./api.js";
import { htmlToNodes } from "./dom.js";
import { list } from "./list.js";
import { openId, userId } from "./page.js";
import { dayLabel, localizeTimes, sameDay } from "./times.js";
import { toast } from "./toast.js";

const NEAR_BOTTOM_PX = 80;
const NEAR_TOP_PX = 120;
const READ_DEBOUNCE_MS = 400;
// message.updated events arriving together (a read receipt covering many
// messages) are gathered this long, then fetched one by one or, past the
// threshold, as the latest page in one request.
const UPDATE_GATHER_MS = 50;
const UPDATE_ONE_BY_ONE_MAX = 3;
// Delivery status only moves forward; a late answer never turns ticks back.
const STATUS_RANK = { received: 0, queued: 0, sent: 1, delivered: 2, failed: 2, undelivered: 2, read: 3 };

function rankOf(status) {
  return STATUS_RANK[status] ?? 0;
}

// Replace `existing` by the server's `node`, unless `node` is older news.
function replaceNode(existing, node) {
  if (rankOf(node.dataset.status) < rankOf(existing.dataset.status)) return;
  localizeTimes(node);
  existing.replaceWith(node);
}

export const thread = {
  scroller: document.getElementById("thread-scroll"),
  messages: document.getElementById("messages"),
  pill: document.getElementById("new-pill"),
  loadingOlder: false,
  readTimer: 0,
  updateTimer: 0,
  pendingUpdates: new Set(),
  fetching: new Map(), // message id -> whether it changed again meanwhile

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

  // The message as shown: the server's node, or the optimistic one while sending.
  findMessage(messageId) {
    return document.getElementById(`m-${messageId}`) ||
      this.messages?.querySelector(`[data-pending="${messageId}"]`) || null;
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

  // Fetch a message and show it: replace it where shown, else append it. A
  // change announced while its fetch runs fetches it again once that is done.
  async showMessage(messageId) {
    if (!this.messages) return;
    if (this.fetching.has(messageId)) {
      this.fetching.set(messageId, true);
      return;
    }
    this.fetching.set(messageId, false);
    try {
      const data = await request("GET", `/inbox/fragments/message/${messageId}`);
      if (data.conversation_id !== openId) return;
      const [node] = htmlToNodes(data.html);
      const existing = this.findMessage(messageId);
      if (existing) {
        replaceNode(existing, node);
        return;
      }
      this.append(node);
      this.markRead();
    } catch {
      // Gone, or the connection dropped: the next event or a reload shows it.
    } finally {
      const again = this.fetching.get(messageId);
      this.fetching.delete(messageId);
      if (again) this.showMessage(messageId);
    }
  },

  // A message changed (status, stored attachment, edit): refresh it if shown.
  updateMessage(messageId) {
    if (!this.findMessage(messageId) && !this.fetching.has(messageId)) return;
    this.pendingUpdates.add(messageId);
    clearTimeout(this.updateTimer);
    this.updateTimer = setTimeout(() => this.flushUpdates(), UPDATE_GATHER_MS);
  },

  flushUpdates() {
    const ids = [...this.pendingUpdates];
    this.pendingUpdates.clear();
    if (ids.length > UPDATE_ONE_BY_ONE_MAX) this.catchUp(new Set(ids));
    else for (const id of ids) this.showMessage(id);
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
    this.patch({ assignee_id: userId }, "Assigned to you");
  },

  // The latest page of messages: add what this page lacks, and replace what
  // changed: a different status, or one of `changed` (ids of message.updated).
  async catchUp(changed = new Set()) {
    try {
      const data = await request("GET", `/inbox/fragments/older/${openId}`);
      for (const node of htmlToNodes(data.html)) {
        const existing = this.findMessage(node.dataset.id);
        if (!existing) this.append(node);
        else if (existing.dataset.pending || changed.has(node.dataset.id) ||
                 existing.dataset.status !== node.dataset.status) {
          replaceNode(existing, node);
        }
      }
    } catch {
      // The page still works; a reload shows everything.
    }
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
