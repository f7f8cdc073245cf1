// The conversation list: items patched in place from server-rendered fragments,
// newest activity first, and the next page loaded on scroll.

import { request } from "./api.js";
import { htmlToNodes } from "./dom.js";
import { openId } from "./page.js";
import { localizeTimes } from "./times.js";
import { toast } from "./toast.js";

export const list = {
  element: document.getElementById("conv-list"),
  loading: false,

  // The page's filters, for fragments that must answer "does it belong here?".
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
    else return; // older than everything loaded: it comes with a later page
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

  // After a gap in the live stream: refresh every item of the first page.
  async resync() {
    const data = await request("GET", `/inbox/fragments/list?${this.filterQuery()}`);
    for (const item of htmlToNodes(data.html)) this.refresh(item.dataset.id);
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
