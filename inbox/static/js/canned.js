// Canned responses in the composer: "/" then part of a shortcut filters the
// menu the page rendered with the composer; Enter or Tab (or a click) puts the
// chosen text in the box. Arrow keys move, Escape closes.

export function createCannedMenu(textarea, menu, { isNote, onChoose }) {
  let active = -1;

  const options = () => [...menu.querySelectorAll('[role="option"]')];
  const visibleOptions = () => options().filter((o) => !o.hidden);

  function isOpen() {
    return !menu.hidden;
  }

  function close() {
    menu.hidden = true;
    active = -1;
    textarea.removeAttribute("aria-activedescendant");
  }

  function highlight(index) {
    const visible = visibleOptions();
    visible.forEach((o, i) => o.setAttribute("aria-selected", String(i === index)));
    active = index;
    if (visible[index]) {
      textarea.setAttribute("aria-activedescendant", visible[index].id);
      visible[index].scrollIntoView({ block: "nearest" });
    }
  }

  // Show the options matching what follows the "/" (the whole box is "/term").
  function filter() {
    if (!options().length) return;
    const match = /^\/(\S*)$/.exec(textarea.value);
    if (!match || isNote()) {
      close();
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
    close();
    textarea.focus();
    onChoose();
  }

  // The composer's keydown, first: true when the menu used the key.
  function handleKey(event) {
    if (!isOpen()) return false;
    const visible = visibleOptions();
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const step = event.key === "ArrowDown" ? 1 : -1;
      highlight((active + step + visible.length) % visible.length);
      return true;
    }
    if ((event.key === "Enter" || event.key === "Tab") && visible[active]) {
      choose(visible[active]);
      return true;
    }
    if (event.key === "Escape") {
      close();
      return true;
    }
    return false;
  }

  menu.addEventListener("mousedown", (event) => {
    const option = event.target.closest('[role="option"]');
    if (option) {
      event.preventDefault();
      choose(option);
    }
  });

  return { isOpen, close, filter, handleKey };
}
