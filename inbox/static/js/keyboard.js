// The keyboard shortcuts listed in the help dialog ("?"). Keys typed into a
// field are the field's, except Escape, which leaves it.

import { openHelp } from "./controls.js";
import { isTyping } from "./dom.js";
import { openId } from "./page.js";
import { thread } from "./thread.js";

const KEY_SEQUENCE_MS = 1200; // how long "g" waits for its second key
const DESTINATIONS = { i: "/inbox", c: "/contacts", s: "/settings" };

function conversationLinks() {
  return [...document.querySelectorAll("#conv-list .conv-item > a")];
}

function moveSelection(step) {
  const links = conversationLinks();
  if (!links.length) return;
  const focused = links.indexOf(document.activeElement);
  const current = focused >= 0 ? focused : links.findIndex((a) => a.getAttribute("aria-current") === "true");
  const next = current < 0 ? 0 : Math.min(links.length - 1, Math.max(0, current + step));
  links[next].focus();
  links[next].scrollIntoView({ block: "nearest" });
}

function focusSearch() {
  const search = document.getElementById("f-q") || document.getElementById("contact-q");
  if (!search) return false;
  search.focus();
  search.select();
  return true;
}

// composer: the open conversation's composer, or null.
export function wireKeyboard(composer) {
  let pendingG = 0;

  const actions = {
    "?": () => { openHelp(); return true; },
    j: () => { moveSelection(1); return true; },
    k: () => { moveSelection(-1); return true; },
    "/": () => focusSearch(),
    r: () => { composer?.focus("reply"); return Boolean(composer); },
    n: () => { composer?.focus("note"); return Boolean(composer); },
    e: () => { if (openId) thread.toggleResolved(); return Boolean(openId); },
    a: () => { if (openId) thread.assignToMe(); return Boolean(openId); },
  };

  document.addEventListener("keydown", (event) => {
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
    if (pendingG && Date.now() - pendingG < KEY_SEQUENCE_MS) {
      pendingG = 0;
      const destination = DESTINATIONS[event.key];
      if (destination) {
        event.preventDefault();
        window.location.assign(destination);
      }
      return;
    }
    if (event.key === "g") {
      pendingG = Date.now();
      return;
    }
    const action = actions[event.key];
    if (action && action()) event.preventDefault();
  });
}
