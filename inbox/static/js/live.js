// Live updates: one EventSource on /api/v1/events. Events carry ids and
// statuses only (see inbox/live/events.py):
//   message.created, message.updated: {conversation_id, message_id, status}
//   conversation.updated:             {conversation_id}
// and the page asks the fragment routes for the HTML of what changed.
// Reconnects are silent; a banner shows only after a few seconds offline.

import { app, csrfToken, openId } from "./page.js";
import { list } from "./list.js";
import { thread } from "./thread.js";

const OFFLINE_BANNER_DELAY_MS = 4000;
const RECONNECT_BASE_MS = 1000;
const RECONNECT_MAX_MS = 30000;

const handlers = {
  "message.created": (data) => {
    if (data.conversation_id === openId) thread.showMessage(data.message_id);
    list.refresh(data.conversation_id);
  },
  "message.updated": (data) => {
    if (data.conversation_id === openId) thread.updateMessage(data.message_id);
  },
  "conversation.updated": (data) => {
    list.refresh(data.conversation_id);
    if (data.conversation_id === openId) {
      thread.refreshHead();
      thread.refreshNotes();
    }
  },
};

// After a fresh connection (the browser's replay did not cover the gap).
async function resync() {
  try {
    await list.resync();
  } catch {
    // Try again on the next reconnect.
  }
  if (openId) {
    thread.refreshNotes();
    thread.catchUp();
  }
}

export function connectLive() {
  if (!app || !csrfToken || typeof EventSource === "undefined") return;
  let offlineTimer = 0;
  let source = null;
  let reconnects = 0;
  const banner = document.getElementById("offline");

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
        setTimeout(open, Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** Math.min(reconnects, 5)));
      }
    });
    for (const [type, handle] of Object.entries(handlers)) {
      source.addEventListener(type, (event) => {
        let data;
        try {
          data = JSON.parse(event.data);
        } catch {
          return; // a malformed event is skipped; the next one carries on
        }
        handle(data);
      });
    }
  }

  open();
  window.addEventListener("beforeunload", () => source?.close());
}
