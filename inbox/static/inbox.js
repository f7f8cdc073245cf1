// The web inbox's script: live updates over server-sent events, sending
// without a reload, drafts kept per conversation, keyboard shortcuts.
// Every page works without it; it only makes them instant. Markup always comes
// from the server (fragments rendered by the page's own templates), or is
// built with textContent, so nothing a contact wrote is ever parsed as HTML.
//
// The modules under js/ are plain ES modules, imported by relative URL (no
// build step); each holds one concept.

import { createComposer } from "./js/composer.js";
import { wireCommonControls } from "./js/controls.js";
import { wireKeyboard } from "./js/keyboard.js";
import { list } from "./js/list.js";
import { connectLive } from "./js/live.js";
import { openId } from "./js/page.js";
import { thread } from "./js/thread.js";

wireCommonControls();
const composer = createComposer();
wireKeyboard(composer);
list.wire();
if (openId) {
  thread.wire();
  thread.markRead();
}
if (list.element || openId) connectLive();
