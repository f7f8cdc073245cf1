// The demo's phone simulator: send as the end user without a reload, and show
// the team's replies and their delivery state as they happen (polled each second).
// Text is only ever set with textContent.

const main = document.getElementById("main");
const token = main?.dataset.token || "";
const POLL_MS = 1000;
const STATUS_LABELS = {
  queued: "🕓",
  sent: "✓ sent",
  delivered: "✓✓ delivered",
  read: "✓✓ read",
  failed: "⚠ not delivered",
  undelivered: "⚠ not delivered",
};

function pad(value) {
  return String(value).padStart(2, "0");
}

function renderEntry(entry) {
  const item = document.createElement("li");
  item.className = entry.mine ? "mine" : "theirs";
  item.dataset.id = entry.id;
  item.dir = "auto";
  item.append(document.createTextNode(entry.text));
  const meta = document.createElement("small");
  const at = new Date(entry.at);
  meta.textContent = `${pad(at.getHours())}:${pad(at.getMinutes())} · ${STATUS_LABELS[entry.status] || entry.status}`;
  item.append(meta);
  return item;
}

function renderChat(list, entries) {
  const stick = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const signature = JSON.stringify(entries.map((e) => [e.id, e.status]));
  if (list.dataset.signature === signature) return;
  list.dataset.signature = signature;
  list.replaceChildren(...entries.map(renderEntry));
  if (stick) list.scrollTop = list.scrollHeight;
}

async function refresh() {
  try {
    const response = await fetch("/demo/simulator/chats", { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const data = await response.json();
    for (const [kind, entries] of Object.entries(data)) {
      const list = document.querySelector(`#phone-${kind} .chat`);
      if (list) renderChat(list, entries);
    }
  } catch {
    // The next poll tries again.
  }
}

for (const phone of document.querySelectorAll(".phone")) {
  const form = phone.querySelector("form");
  const input = form.querySelector('input[name="text"]');
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    const response = await fetch(form.action, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Simulator-Token": token },
      body: JSON.stringify({ text }),
    });
    if (!response.ok) {
      input.value = text;
      let message = "not sent";
      try {
        message = (await response.json()).error.message;
      } catch {
        // keep the generic message
      }
      form.setAttribute("aria-invalid", "true");
      input.title = message;
    } else {
      form.removeAttribute("aria-invalid");
    }
    refresh();
  });
}

for (const list of document.querySelectorAll(".chat")) list.scrollTop = list.scrollHeight;
setInterval(refresh, POLL_MS);
refresh();
