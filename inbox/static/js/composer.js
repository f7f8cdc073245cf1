// The composer of the open conversation: reply or private note, sent through
// the API without a reload and shown at once (optimistically, with a clock);
// the draft is kept per conversation in localStorage until it is sent; the
// template form of WhatsApp conversations.

import { request } from "./api.js";
import { createCannedMenu } from "./canned.js";
import { openId } from "./page.js";
import { thread } from "./thread.js";
import { formatTime } from "./times.js";
import { toast } from "./toast.js";

const DRAFT_PREFIX = "inbox:draft:";
const CLOSED_MENU = { isOpen: () => false, close() {}, filter() {}, handleKey: () => false };

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

function markFailed(pending, error) {
  pending.classList.add("failed");
  const failure = document.createElement("div");
  failure.className = "failure";
  failure.setAttribute("role", "alert");
  failure.textContent = `Not sent: ${error.message}`;
  pending.append(failure);
}

// "a | b" or one per line → {"1": "a", "2": "b"} (Twilio's numbered variables).
function readVariables(raw) {
  const parts = raw.split(raw.includes("\n") ? "\n" : "|").map((p) => p.trim()).filter(Boolean);
  if (!parts.length) return undefined;
  return Object.fromEntries(parts.map((value, index) => [String(index + 1), value]));
}

function wireTemplateForm() {
  const templateForm = document.querySelector("[data-template-form]");
  templateForm?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(templateForm);
    try {
      const message = await request("POST", `/api/v1/conversations/${openId}/messages`, {
        template: String(data.get("template") || "").trim(),
        variables: readVariables(String(data.get("variables") || "")),
      });
      toast("Template queued");
      thread.showMessage(message.id);
    } catch (error) {
      toast(error.message, "error");
    }
  });
}

// The composer's handle ({focus(mode), menuOpen()}), or null without one.
export function createComposer() {
  const form = document.getElementById("composer");
  if (!form || !openId) return null;
  const textarea = document.getElementById("reply-text");
  const windowOpen = form.dataset.windowOpen === "true";
  const draftKey = DRAFT_PREFIX + openId;

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
    if (textarea.value) {
      // Typed before this script ran (a slow load): that text wins over an older
      // draft, and a "/" typed then opens the menu as it would have.
      setMode(windowOpen ? mode() : "note");
      saveDraft();
      if (document.activeElement === textarea) menu.filter();
      return;
    }
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

  const menuElement = document.getElementById("canned-menu");
  const menu = menuElement
    ? createCannedMenu(textarea, menuElement, { isNote: () => mode() === "note", onChoose: saveDraft })
    : CLOSED_MENU;

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
    menu.close();
    try { localStorage.removeItem(draftKey); } catch { /* storage disabled */ }
    try {
      if (isNote) {
        const note = await request("POST", `/api/v1/conversations/${openId}/notes`, { text });
        if (document.getElementById(`n-${note.id}`)) {
          pending.remove(); // the live update was quicker
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
      markFailed(pending, error);
      if (!textarea.value) {
        textarea.value = text;
        saveDraft();
      }
      toast(error.message, "error");
    }
  }

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
    menu.filter();
  });
  textarea.addEventListener("keydown", (event) => {
    if (menu.handleKey(event)) {
      event.preventDefault();
      return;
    }
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  wireTemplateForm();

  return {
    focus(value) {
      setMode(value);
      textarea.focus();
    },
    menuOpen: menu.isOpen,
  };
}
