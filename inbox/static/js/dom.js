// Turning the server's fragments into nodes. Markup only ever comes from our own
// templates (escaped there); anything else is built with textContent.

export function htmlToNodes(html) {
  const template = document.createElement("template");
  template.innerHTML = html.trim();
  return [...template.content.children];
}

export function isTyping(target) {
  return target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}
